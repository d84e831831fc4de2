// Second factors, for login and for step-up: answering Vault's `mfa_requirement` through
// sys/mfa/validate with a TOTP code or a WebAuthn assertion (the browser's security-key API, through
// @simplewebauthn/browser). Contract of the server side: docs/governance.md.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { api, call, type MfaRequirement } from './client.ts';

export type MfaMethod = MfaRequirement['mfa_constraints'][string]['any'][number];

/** One answer per constraint: the method chosen and its payload (a code, or the assertion JSON). */
export type MfaAnswers = Record<string, { methodId: string; payload: string }>;

/** Asks the security key for an assertion over the server's options; answers the JSON to send. */
export async function webauthnAssertion(m: MfaMethod): Promise<string> {
  // The options come from the server as PublicKeyCredentialRequestOptionsJSON.
  const res = await startAuthentication({ optionsJSON: m.webauthn_options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  return JSON.stringify(res);
}

/** Completes a held-back login (or a step-up): answers the `auth` block with the new token. */
export async function validateMfa(req: MfaRequirement, answers: MfaAnswers): Promise<Record<string, unknown> & { client_token?: string }> {
  const mfa_payload: Record<string, string[]> = {};
  for (const a of Object.values(answers)) mfa_payload[a.methodId] = [a.payload];
  const r = await api.write('sys/mfa/validate', { mfa_request_id: req.mfa_request_id, mfa_payload }, { token: null });
  return (r.auth ?? {}) as Record<string, unknown> & { client_token?: string };
}

/** Registers a security key for the signed-in entity on a WebAuthn MFA method. */
export async function registerSecurityKey(methodId: string, label: string): Promise<string> {
  const begin = await api.write<{ options: Parameters<typeof startRegistration>[0]['optionsJSON'] }>('identity/mfa/method/webauthn/register/begin', { method_id: methodId });
  const response = await startRegistration({ optionsJSON: begin.data!.options });
  const fin = await api.write<{ credential_id: string }>('identity/mfa/method/webauthn/register/finish', { method_id: methodId, response, name: label });
  return fin.data!.credential_id;
}

export interface MfaMethodInfo {
  id: string;
  type: string;
  name: string;
}

/** Every MFA method (TOTP and WebAuthn), from Vault's type-agnostic list with Arca's key_info. */
export async function listMfaMethods(signal?: AbortSignal): Promise<MfaMethodInfo[]> {
  const r = await call<{ keys?: string[]; key_info?: Record<string, { type?: string; method_name?: string }> }>('LIST', 'identity/mfa/method/', undefined, signal ? { signal } : {});
  const info = r.data?.key_info ?? {};
  return (r.data?.keys ?? []).map((id) => ({ id, type: info[id]?.type ?? 'unknown', name: info[id]?.method_name ?? '' }));
}

export interface SecurityKey {
  id: string;
  label: string;
  /** When it was registered (RFC 3339). */
  created: string;
}

/** The signed-in entity's own security keys on a WebAuthn method. */
export async function listSecurityKeys(methodId: string, signal?: AbortSignal): Promise<SecurityKey[]> {
  const r = await api.read<{ credentials?: SecurityKey[] }>('identity/mfa/method/webauthn/credentials', { query: { method_id: methodId }, ...(signal ? { signal } : {}) });
  return r.data?.credentials ?? [];
}

export interface TotpEnrolment {
  /** otpauth:// URL (carries the secret: shown once, never stored). */
  url: string;
  /** QR code of the URL, base64 PNG. */
  barcode: string;
  recovery_codes: string[];
}

/** Enrols the signed-in entity in a TOTP method (replacing a previous secret). */
export async function enrolTotp(methodId: string): Promise<TotpEnrolment> {
  const r = await api.write<TotpEnrolment>('identity/mfa/method/totp/generate', { method_id: methodId });
  if (!r.data?.url) throw new Error('The server answered no enrolment.');
  return r.data;
}
