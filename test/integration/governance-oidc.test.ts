/**
 * Issue 18 item 4 against a real OpenID Provider (`oidc-provider`, started here on loopback): the
 * authorization code flow with PKCE, state and nonce through Arca's `auth/oidc` (the provider itself
 * requires PKCE, so a login without the verifier cannot succeed); refusals for a disallowed redirect
 * URI, a replayed state, a wrong audience, a forged or expired ID token — each refusal checked for its stated reason;
 * the groups claim drives external group membership.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLOCK_TOLERANCE_SECONDS } from '../../src/engines/auth-oidc/engine.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { freePort, stopChild } from '../harness/index.ts';
import { type Gov, startGov } from './governance-kit.ts';

const REDIRECT = 'http://127.0.0.1:8250/oidc/callback';
const errCode = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code?: string } | undefined)?.code;
const errMessage = (r: { body: Record<string, unknown> }) => (r.body['error'] as { message?: string } | undefined)?.message;

/** A browser stand-in: follows the provider's redirects with its cookies, answering the dev login and consent forms. */
async function browse(authUrl: string, user: string, redirect = REDIRECT): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authUrl;
  for (let i = 0; i < 20; i++) {
    if (url.startsWith(redirect)) return new URL(url);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let res = await fetch(url, { redirect: 'manual', headers: { cookie } });
    const store = (r: Response) => {
      for (const c of r.headers.getSetCookie()) {
        const [kv] = c.split(';');
        const at = kv!.indexOf('=');
        jar.set(kv!.slice(0, at), kv!.slice(at + 1));
      }
    };
    store(res);
    if (res.status === 200 && /\/interaction\//.test(url)) {
      const html = await res.text();
      const prompt = html.includes('name="login"') ? 'login' : 'consent';
      const body = new URLSearchParams(prompt === 'login' ? { prompt, login: user, password: 'x' } : { prompt });
      res = await fetch(url, { method: 'POST', redirect: 'manual', body, headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' } });
      store(res);
    }
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`provider answered ${res.status} without a redirect at ${url}`);
    url = new URL(loc, url).href;
  }
  throw new Error('too many redirects');
}

interface ProviderOptions {
  /** Redirect URIs registered for the `arca` client besides REDIRECT. */
  redirectUris?: string[];
  /** Lifetime of the ID tokens it issues, in seconds. */
  idTokenTtl?: number;
  /** When it returns a key set, the JWKS endpoint publishes that instead of the provider's own (ID tokens then fail to verify). */
  jwksOverride?: () => string | undefined;
}

/** A real OpenID Provider (`oidc-provider`) on loopback, with one client, `arca`, that must use PKCE. */
async function startProvider(o: ProviderOptions = {}): Promise<{ server: http.Server; issuer: string }> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'arca', client_secret: 'arca-client-secret-0123456789', redirect_uris: [REDIRECT, ...(o.redirectUris ?? [])], grant_types: ['authorization_code'], response_types: ['code'] }],
    pkce: { required: () => true },
    claims: { openid: ['sub', 'groups'] },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub, groups: sub === 'kim' ? ['sso-admins'] : [] }) }),
    conformIdTokenClaims: false,
    ttl: { IdToken: o.idTokenTtl ?? 3600 },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const jwks = o.jwksOverride?.();
    if (jwks && req.url?.startsWith('/jwks')) {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
      return;
    }
    handle(req, res);
  });
  return { server, issuer };
}

/**
 * A provider whose clock runs `behindSeconds` behind this process's (and so Arca's): this file run again
 * as a plain script in a child process that sets its own Date.now back (oidc-provider reads the time
 * through Date.now), so only the provider's clock is off. The ID tokens it issues are signed with its
 * real keys and, by Arca's clock, already expired `behindSeconds - idTokenTtl` seconds ago when issued.
 */
const SKEWED_PROVIDER_ENV = 'ARCA_TEST_OIDC_PROVIDER_BEHIND';
const asSkewedProvider = process.env[SKEWED_PROVIDER_ENV];
if (asSkewedProvider) {
  const { behindSeconds, idTokenTtl } = JSON.parse(asSkewedProvider) as { behindSeconds: number; idTokenTtl: number };
  const realNow = Date.now;
  Date.now = () => realNow() - behindSeconds * 1000;
  const { issuer } = await startProvider({ idTokenTtl });
  process.stdout.write(`${issuer}\n`);
  // Gone with the test process: its end of stdin closes.
  process.stdin.on('end', () => process.exit(0)).resume();
}
async function startSkewedProvider(o: { behindSeconds: number; idTokenTtl: number }): Promise<{ child: ChildProcess; issuer: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, [SKEWED_PROVIDER_ENV]: JSON.stringify(o) }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the skewed provider exited (${code}) before it listened: ${err}`)));
  });
  return { child, issuer };
}

if (!asSkewedProvider) describe('OIDC login against a real OpenID Provider', () => {
  let g: Gov;
  let op: http.Server;
  let issuer: string;
  /** When set, the provider's JWKS endpoint publishes this key set instead (ID tokens then fail to verify). */
  let forgedJwks: string | undefined;
  /** The loopback port `arca login oidc` listens on (registered with the provider up front). */
  let cliPort: number;

  before(async () => {
    g = await startGov();
    cliPort = await freePort();
    ({ server: op, issuer } = await startProvider({ redirectUris: [`http://localhost:${cliPort}/oidc/callback`], jwksOverride: () => forgedJwks }));
    await g.root.write('sys/auth/oidc', { type: 'oidc' });
    await g.root.write('auth/oidc/config', { oidc_discovery_url: issuer, oidc_client_id: 'arca', oidc_client_secret: 'arca-client-secret-0123456789', default_role: 'ops' });
    await g.root.write('auth/oidc/role/ops', { allowed_redirect_uris: [REDIRECT], bound_audiences: ['arca'], user_claim: 'sub', groups_claim: 'groups', token_policies: ['default'] });
    await g.root.write('auth/oidc/role/other-aud', { allowed_redirect_uris: [REDIRECT], bound_audiences: ['someone-else'] });
    await g.root.write('sys/policies/acl/sso', { policy: 'path "secret/data/sso" { capabilities = ["read"] }' });
    await g.root.request('POST', 'identity/group', { name: 'sso-admins', type: 'external', policies: ['sso'] });
    await g.root.write('secret/data/sso', { data: { v: '1' } });
  });
  after(async () => {
    await g?.close();
    op?.close();
  });

  const start = async (role: string, redirect = REDIRECT) => g.client().request('POST', 'auth/oidc/oidc/auth_url', { role, redirect_uri: redirect });

  it('logs in with code + PKCE + state + nonce, maps the user to an entity and the groups claim to external groups', async () => {
    const r = await start('ops');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const authUrl = new URL((r.body['data'] as { auth_url: string }).auth_url);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authUrl.searchParams.get('nonce'));
    assert.ok(authUrl.searchParams.get('state'));
    const back = await browse(authUrl.href, 'kim');
    const cb = await g.client().request('POST', 'auth/oidc/oidc/callback', Object.fromEntries(back.searchParams));
    assert.equal(cb.status, 200, JSON.stringify(cb.body));
    const auth = cb.body['auth'] as { client_token: string; entity_id: string };
    assert.match(auth.entity_id, /^[0-9a-f-]{36}$/);
    assert.equal((await g.client(auth.client_token).request('GET', 'secret/data/sso')).status, 200, 'external group policy applies');
    // The same state again: refused, nothing reaches the provider.
    const replay = await g.client().request('POST', 'auth/oidc/oidc/callback', Object.fromEntries(back.searchParams));
    assert.equal(errCode(replay), 'ERR_OIDC_STATE_INVALID');
  });

  it('refuses an ID token whose signature does not verify against the published keys (forged)', async () => {
    // Same kid, another key: what a token signed by someone else looks like to the verifier.
    const real = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: { kid: string; alg?: string }[] };
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = await exportJWK(privateKey);
    forgedJwks = JSON.stringify({ keys: [{ ...pub, kid: real.keys[0]!.kid, alg: 'RS256', use: 'sig' }] });
    try {
      // A fresh mount: its verifier has cached no keys yet.
      await g.root.write('sys/auth/oidc2', { type: 'oidc' });
      await g.root.write('auth/oidc2/config', { oidc_discovery_url: issuer, oidc_client_id: 'arca', oidc_client_secret: 'arca-client-secret-0123456789', default_role: 'ops' });
      await g.root.write('auth/oidc2/role/ops', { allowed_redirect_uris: [REDIRECT] });
      const r = await g.client().request('POST', 'auth/oidc2/oidc/auth_url', { role: 'ops', redirect_uri: REDIRECT });
      const back = await browse((r.body['data'] as { auth_url: string }).auth_url, 'eve');
      const cb = await g.client().request('POST', 'auth/oidc2/oidc/callback', Object.fromEntries(back.searchParams));
      assert.equal(cb.status, 403, JSON.stringify(cb.body));
      assert.equal(errCode(cb), 'ERR_OIDC_LOGIN_FAILED');
      assert.equal(errMessage(cb), "OIDC login failed: the ID token signature does not verify against the provider's published keys");
    } finally {
      forgedJwks = undefined;
    }
  });

  it('arca login oidc completes the flow through its loopback listener', async () => {
    const port = cliPort;
    const redirect = `http://localhost:${port}/oidc/callback`;
    await g.root.write('auth/oidc/role/cli', { allowed_redirect_uris: [redirect], user_claim: 'sub' });
    const { VAULT_TOKEN: _t, ARCA_TOKEN: _a, ...base } = process.env;
    const child = spawn(ARCA_BIN, ['login', 'oidc', '--role', 'cli', '--port', String(port), '-o', 'json'], { env: { ...base, ARCA_ADDR: g.srv.address }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const authUrl = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`arca exited: ${err}`)));
    });
    // The browser follows the provider back to the CLI's listener (localhost → 127.0.0.1).
    const back = await browse(authUrl, 'kim', redirect);
    assert.equal((await fetch(back.href.replace('//localhost:', '//127.0.0.1:'))).status, 200);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, err);
    const res = JSON.parse(out) as { token: string; entity_id: string };
    assert.match(res.token, /^hvs\./);
    assert.match(res.entity_id, /^[0-9a-f-]{36}$/);
  });

  it("refuses an ID token that has expired by Arca's clock (issued by a provider whose clock is behind)", async () => {
    // A 60 s ID token from a provider whose clock is 60 s + Arca's tolerance + 10 minutes behind: by Arca's
    // clock it is issued already expired, ten minutes beyond the tolerance. Nothing else is wrong with it.
    const idTokenTtl = 60;
    const skewed = await startSkewedProvider({ behindSeconds: idTokenTtl + CLOCK_TOLERANCE_SECONDS + 600, idTokenTtl });
    try {
      await g.root.write('sys/auth/oidc-behind', { type: 'oidc' });
      await g.root.write('auth/oidc-behind/config', { oidc_discovery_url: skewed.issuer, oidc_client_id: 'arca', oidc_client_secret: 'arca-client-secret-0123456789', default_role: 'ops' });
      await g.root.write('auth/oidc-behind/role/ops', { allowed_redirect_uris: [REDIRECT], bound_audiences: ['arca'] });
      const r = await g.client().request('POST', 'auth/oidc-behind/oidc/auth_url', { role: 'ops', redirect_uri: REDIRECT });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const back = await browse((r.body['data'] as { auth_url: string }).auth_url, 'ida');
      const cb = await g.client().request('POST', 'auth/oidc-behind/oidc/callback', Object.fromEntries(back.searchParams));
      assert.equal(cb.status, 403, JSON.stringify(cb.body));
      assert.equal(errCode(cb), 'ERR_OIDC_LOGIN_FAILED');
      assert.equal(errMessage(cb), 'OIDC login failed: the ID token has expired (exp is in the past)');
      assert.equal((cb.body['auth'] as unknown) ?? null, null, 'no token issued');
    } finally {
      await stopChild(skewed.child);
    }
  });

  it("takes Vault's token fields on a role: a callback outside token_bound_cidrs is refused, batch tokens", async () => {
    // Only a client inside 10.0.0.0/8 may complete this role's login: the callback comes from 127.0.0.1.
    await g.root.write('auth/oidc/role/pinned', { allowed_redirect_uris: [REDIRECT], bound_audiences: ['arca'], token_bound_cidrs: '10.0.0.0/8' });
    const a = await start('pinned');
    const backA = await browse((a.body['data'] as { auth_url: string }).auth_url, 'nia');
    const refused = await g.client().request('POST', 'auth/oidc/oidc/callback', Object.fromEntries(backA.searchParams));
    assert.equal(refused.status, 403);
    assert.equal(errCode(refused), 'ERR_PERMISSION_DENIED');

    const w = await g.root.request('POST', 'auth/oidc/role/pinned', { allowed_redirect_uris: [REDIRECT], bound_audiences: ['arca'], token_bound_cidrs: '127.0.0.1/32', token_type: 'batch', token_ttl: '5m', token_no_default_policy: true, token_policies: 'sso-read' });
    assert.equal(w.status, 204, JSON.stringify(w.body));
    const role = (await g.root.read('auth/oidc/role/pinned')).body['data'] as Record<string, unknown>;
    assert.deepEqual([role['role_type'], role['token_type'], role['token_bound_cidrs'], role['token_ttl'], role['token_no_default_policy']], ['oidc', 'batch', ['127.0.0.1/32'], 300, true]);
    const b = await start('pinned');
    const backB = await browse((b.body['data'] as { auth_url: string }).auth_url, 'nia');
    const cb = await g.client().request('POST', 'auth/oidc/oidc/callback', Object.fromEntries(backB.searchParams));
    assert.equal(cb.status, 200, JSON.stringify(cb.body));
    const auth = cb.body['auth'] as { client_token: string; token_type: string; lease_duration: number; token_policies: string[] };
    assert.match(auth.client_token, /^hvb\./);
    assert.deepEqual([auth.token_type, auth.lease_duration, auth.token_policies], ['batch', 300, ['sso-read']]);

    const bad = await g.root.request('POST', 'auth/oidc/role/pinned', { allowed_redirect_uris: [REDIRECT], token_type: 'batch', token_num_uses: 3 });
    assert.equal(bad.status, 400);
    assert.equal(((await g.root.read('auth/oidc/role/pinned')).body['data'] as { token_ttl: number }).token_ttl, 300, 'a refused write changes nothing');
    await g.root.delete('auth/oidc/role/pinned');
  });

  it('refuses a redirect URI the role does not allow', async () => {
    assert.equal(errCode(await start('ops', 'http://127.0.0.1:9999/evil')), 'ERR_OIDC_REDIRECT_URI_DISALLOWED');
  });

  it('refuses an ID token whose audience is not bound to the role', async () => {
    const r = await start('other-aud');
    const back = await browse((r.body['data'] as { auth_url: string }).auth_url, 'lee');
    const cb = await g.client().request('POST', 'auth/oidc/oidc/callback', Object.fromEntries(back.searchParams));
    assert.equal(cb.status, 403, JSON.stringify(cb.body));
    assert.equal(errCode(cb), 'ERR_OIDC_LOGIN_FAILED');
    assert.equal(errMessage(cb), "OIDC login failed: the ID token audience is not one of the role's bound_audiences");
  });

  it('refuses a code presented with another login\'s state (PKCE verifier and nonce do not match)', async () => {
    const a = await start('ops');
    const b = await start('ops');
    const backA = await browse((a.body['data'] as { auth_url: string }).auth_url, 'max');
    const stateB = new URL((b.body['data'] as { auth_url: string }).auth_url).searchParams.get('state')!;
    const cb = await g.client().request('POST', 'auth/oidc/oidc/callback', { ...Object.fromEntries(backA.searchParams), state: stateB });
    assert.equal(errCode(cb), 'ERR_OIDC_LOGIN_FAILED');
  });
});
