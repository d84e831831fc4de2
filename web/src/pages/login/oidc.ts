// OIDC redirect login from the browser (Vault's shapes: auth/<mount>/oidc/auth_url and
// oidc/callback). The server keeps the PKCE verifier and nonce; this tab keeps, in sessionStorage
// for the round trip to the provider, the mount, the state the server chose (so an answer that
// belongs to another login is refused here, before anything is sent) and a client nonce (sent to
// both calls, as Vault's UI does). Nothing of it is a credential; it is removed at the callback.
import { api, type Envelope } from '../../api/client.ts';

const KEY = 'arca.oidc';
export const CALLBACK_PATH = 'oidc/callback';

interface Pending {
  mount: string;
  state: string;
  clientNonce: string;
}

export function redirectUri(): string {
  return `${location.origin}/ui/${CALLBACK_PATH}`;
}

function randomNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

/** Asks the server for the provider's authorization URL and remembers what the callback must match. */
export async function beginOidc(mount: string, role: string): Promise<string> {
  const clientNonce = randomNonce();
  const r = await api.write<{ auth_url?: string }>(
    `auth/${mount}/oidc/auth_url`,
    { redirect_uri: redirectUri(), client_nonce: clientNonce, ...(role ? { role } : {}) },
    { token: null },
  );
  const url = r.data?.auth_url;
  const state = url ? new URL(url).searchParams.get('state') : null;
  if (!url || !state) throw new Error('The server did not answer an authorization URL: check the OIDC auth method’s configuration.');
  const p: Pending = { mount, state, clientNonce };
  sessionStorage.setItem(KEY, JSON.stringify(p));
  return url;
}

export class OidcCallbackError extends Error {}

/**
 * Completes the login the provider redirected back to: the state must be the one this tab started;
 * answers the server's `auth` block (a token, or an `mfa_requirement`).
 */
export async function finishOidc(query: URLSearchParams): Promise<NonNullable<Envelope['auth']>> {
  const raw = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  const providerError = query.get('error');
  if (providerError) {
    const why = query.get('error_description');
    throw new OidcCallbackError(`The identity provider refused the sign-in (${providerError}${why ? `: ${why.slice(0, 200)}` : ''}). Start again.`);
  }
  const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
  const state = query.get('state');
  const code = query.get('code');
  if (!pending) throw new OidcCallbackError('No single sign-on was started in this tab (or it already finished). Start the single sign-on again.');
  if (!state || state !== pending.state) {
    throw new OidcCallbackError('OIDC state mismatch: this answer from the identity provider does not belong to the sign-in started in this tab. Start the single sign-on again.');
  }
  if (!code) throw new OidcCallbackError('The identity provider answered without an authorization code. Start again.');
  const iss = query.get('iss');
  const r = await api.write(`auth/${pending.mount}/oidc/callback`, { state, code, client_nonce: pending.clientNonce, ...(iss ? { iss } : {}) }, { token: null });
  return r.auth ?? {};
}
