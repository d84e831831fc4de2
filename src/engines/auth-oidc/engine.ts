/**
 * The `oidc` auth method (Vault's shapes): `config`, `role/:name` (CRUD + LIST), `oidc/auth_url` and
 * `oidc/callback`. Authorization code flow with PKCE (S256), state and nonce, through `openid-client`
 * (which checks the ID token's issuer, audience = client id, expiry and nonce, but — as OIDC Core
 * 3.1.3.7 allows for a token-endpoint answer over TLS — not its signature: we verify that too, with
 * jose against the provider's JWKS, so a forged token is refused even if the transport is not). The role
 * adds `bound_audiences`, maps `user_claim` to the entity alias and `groups_claim` to external groups.
 * A refused callback is ERR_OIDC_LOGIN_FAILED with the check that failed in its message (refusal.ts).
 * Pending logins (state → nonce, PKCE verifier, redirect URI) live in memory on the replica that
 * answered `auth_url`, for LOGIN_TTL_MS, and are spent by the first callback that names them.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { z } from 'zod';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import { checkRoleName, parseFields, ROLE_NAME } from '../fields.ts';
import { EngineRouter } from '../router.ts';
import { checkLoginFrom, tokenIssue } from '../token-fields.ts';
import type { Engine, EngineContext, EngineRequest } from '../types.ts';
import { callbackRefusal, loginRefused } from './refusal.ts';
import { isLoopbackHttp, type OidcConfig, oidcIgnoredFields, type OidcRole, oidcRoleData, parseOidcConfig, parseOidcRole, storedOidcRole } from './settings.ts';

export const LOGIN_TTL_MS = 5 * 60_000;
/** Clock skew tolerated on the ID token's exp/nbf, the same in openid-client's checks and jose's (openid-client's default). */
export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_PENDING = 10_000;
const AuthUrlFields = z.object({ role: z.string().max(128).optional(), redirect_uri: z.string().min(1).max(2048), client_nonce: z.string().max(256).optional() });
const CallbackFields = z.object({ state: z.string().min(1).max(256), code: z.string().min(1).max(4096), iss: z.string().max(2048).optional(), client_nonce: z.string().max(256).optional() });

interface Pending {
  role: string;
  redirectUri: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function createOidcAuthEngine(ctx: EngineContext): Engine {
  const s = ctx.storage;
  const pending = new Map<string, Pending>();
  let discovered: { key: string; cfg: client.Configuration; jwks: ReturnType<typeof createRemoteJWKSet> } | undefined;

  const loadConfig = async (): Promise<OidcConfig> => {
    const b = await s.get('config');
    if (!b) throw new ArcaError('ERR_INVALID_REQUEST', 'the OIDC auth method is not configured: write its config first');
    return JSON.parse(dec.decode(b)) as OidcConfig;
  };
  const loadRole = async (name: string): Promise<OidcRole> => {
    const b = ROLE_NAME.test(name) ? await s.get(`role/${name}`) : undefined;
    if (!b) throw new ArcaError('ERR_INVALID_REQUEST', 'unknown role', { details: { field: 'role' } });
    return storedOidcRole(dec.decode(b));
  };
  const provider = async (c: OidcConfig): Promise<client.Configuration> => (await discover(c)).cfg;
  const discover = async (c: OidcConfig): Promise<NonNullable<typeof discovered>> => {
    const key = JSON.stringify([c.oidc_discovery_url, c.oidc_client_id, c.oidc_client_secret]);
    if (discovered?.key === key) return discovered;
    try {
      const opts = isLoopbackHttp(c.oidc_discovery_url) ? { execute: [client.allowInsecureRequests] } : {};
      const metadata = { client_secret: c.oidc_client_secret || undefined, [client.clockTolerance]: CLOCK_TOLERANCE_SECONDS };
      const cfg = await client.discovery(new URL(c.oidc_discovery_url), c.oidc_client_id, metadata, undefined, opts);
      const jwksUri = cfg.serverMetadata().jwks_uri;
      if (!jwksUri) throw new Error('no jwks_uri');
      discovered = { key, cfg, jwks: createRemoteJWKSet(new URL(jwksUri)) };
      return discovered;
    } catch (err) {
      ctx.log.warn({ err: (err as Error).name }, 'oidc discovery failed');
      throw new ArcaError('ERR_OIDC_UPSTREAM_UNAVAILABLE', 'the OpenID Provider could not be reached or its discovery document is invalid', { cause: err });
    }
  };
  const sweep = () => {
    const now = ctx.now();
    for (const [k, p] of pending) if (p.expiresAt <= now) pending.delete(k);
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
  };

  const router = new EngineRouter()
    .add('config', {
      read: async () => {
        const c = await loadConfig();
        return { data: { oidc_discovery_url: c.oidc_discovery_url, oidc_client_id: c.oidc_client_id, default_role: c.default_role } };
      },
      update: async (r) => {
        const c = parseOidcConfig(r.data);
        await s.put('config', enc.encode(JSON.stringify(c)));
        discovered = undefined;
        return oidcIgnoredFields.config(r.data);
      },
    })
    .add('role/', { list: async () => ({ data: { keys: (await s.list('role/')).sort() } }) })
    .add('role/:name', {
      read: async (_r, p) => ({ data: oidcRoleData(await loadRole(p['name']!)) }),
      update: async (r, p) => {
        const name = checkRoleName(p['name']!);
        await s.put(`role/${name}`, enc.encode(JSON.stringify(parseOidcRole(r.data))));
        return oidcIgnoredFields.role(r.data);
      },
      delete: async (_r, p) => {
        await s.delete(`role/${p['name']}`);
        return undefined;
      },
    })
    .add('oidc/auth_url', {
      update: async (r) => {
        const f = parseFields(AuthUrlFields, r.data);
        const c = await loadConfig();
        const roleName = f.role || c.default_role;
        const role = await loadRole(roleName);
        if (!role.allowed_redirect_uris.includes(f.redirect_uri)) {
          throw new ArcaError('ERR_OIDC_REDIRECT_URI_DISALLOWED', 'redirect_uri is not one of the role\'s allowed_redirect_uris', { details: { field: 'redirect_uri' } });
        }
        const cfg = await provider(c);
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        sweep();
        pending.set(state, { role: roleName, redirectUri: f.redirect_uri, nonce, verifier, expiresAt: ctx.now() + LOGIN_TTL_MS });
        const scopes = [...new Set(['openid', ...role.oidc_scopes])].join(' ');
        const url = client.buildAuthorizationUrl(cfg, {
          redirect_uri: f.redirect_uri, scope: scopes, state, nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        });
        return { data: { auth_url: url.href } };
      },
    })
    .add('oidc/callback', {
      read: (r) => callback(r),
      update: (r) => callback(r),
    });

  async function callback({ data, mountPoint, clientAddr }: EngineRequest) {
    const f = parseFields(CallbackFields, data);
    const p = pending.get(f.state);
    // Single use: a replayed or unknown state is refused before anything reaches the provider.
    pending.delete(f.state);
    if (!p || p.expiresAt <= ctx.now()) throw new ArcaError('ERR_OIDC_STATE_INVALID', 'unknown, expired or already used OIDC state: start the login again');
    const c = await loadConfig();
    const role = await loadRole(p.role);
    // Before the code is redeemed: a callback from outside the role's token_bound_cidrs spends nothing at the provider.
    checkLoginFrom(role, clientAddr);
    const { cfg, jwks } = await discover(c);
    const current = new URL(p.redirectUri);
    current.searchParams.set('code', f.code);
    current.searchParams.set('state', f.state);
    if (f.iss) current.searchParams.set('iss', f.iss);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(cfg, current, { pkceCodeVerifier: p.verifier, expectedState: f.state, expectedNonce: p.nonce, idTokenExpected: true });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      await jwtVerify(tokens.id_token ?? '', jwks, { issuer: cfg.serverMetadata().issuer, audience: c.oidc_client_id, clockTolerance: CLOCK_TOLERANCE_SECONDS });
    } catch (err) {
      if (isArcaError(err)) throw err;
      const refusal = callbackRefusal(err);
      ctx.log.info({ err: (err as Error).name, code: (err as { code?: string }).code, reason: refusal.message }, 'oidc callback refused');
      throw refusal;
    }
    const aud = Array.isArray(claims['aud']) ? (claims['aud'] as unknown[]) : [claims['aud']];
    if (role.bound_audiences.length && !aud.some((a) => typeof a === 'string' && role.bound_audiences.includes(a))) {
      throw loginRefused("the ID token audience is not one of the role's bound_audiences");
    }
    const user = claims[role.user_claim];
    if (typeof user !== 'string' || user === '' || user.length > 512) throw loginRefused(`the ID token has no string claim "${role.user_claim}"`);
    const g = role.groups_claim ? claims[role.groups_claim] : undefined;
    const groups = Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string').slice(0, 256) : [];
    return { issue: tokenIssue(role, { mountPoint, name: user, metadata: { role: p.role }, alias: { name: user, groups } }) };
  }

  return { type: 'oidc', sensitiveFields: ['oidc_client_secret', 'code', 'state', 'client_nonce'], handle: (req) => router.dispatch(req), routes: () => router.routes() };
}
