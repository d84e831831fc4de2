/**
 * Issue 14 through the real server: the `kubernetes` auth method with real signed service-account
 * tokens (RS256 and ES256 keys generated here, shaped as the reference's projected and legacy tokens).
 *
 * The API server side is test/harness/kube-tokens.ts: a small TokenReview + OIDC discovery/JWKS
 * server that follows the documented request/response shapes of kubernetes-integration.md §3.3/§3.4
 * (not a real kube-apiserver, which this machine cannot run). It verifies tokens with its own keys.
 */
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import nodeVault from 'node-vault';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { freePort, requestFrom, tempDir, waitFor } from '../harness/index.ts';
import { type KubeApiServer, legacyToken, newSigningKey, type ProjectedToken, startKubeApiServer } from '../harness/kube-tokens.ts';
import type { ArcaClient } from '../../src/client/index.ts';

const APP: ProjectedToken = {
  namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'],
  pod: { name: 'api-7c9d8f6b5d-x2kqv', uid: '5e1d7f0a-2222-4f10-8e3b-5c4d2a1b0f99' },
  node: { name: 'ip-10-0-3-17', uid: '0c3f9a4e-3333-4f10-8e3b-5c4d2a1b0f99' },
};
const ROLE = { bound_service_account_names: ['api', 'web-*'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app-read'], token_ttl: '1h' };

type Body = Record<string, unknown> & { auth?: { client_token: string; metadata: Record<string, string>; policies: string[]; lease_duration: number }; error?: { code: string; message: string } };

/** lookup-self's lifetime fields. */
interface Lifetime {
  ttl: number;
  creation_ttl: number;
  creation_time: number;
  issue_time: string;
  expire_time: string;
}

/**
 * A fresh token's lifetime is `ttl` seconds, checked without depending on how long the test took: the
 * TTL fixed at creation, an expiry exactly that far after issue (RFC 3339 times), and a remaining TTL
 * that counts down from it.
 */
function assertLifetime(self: Lifetime, ttl: number): void {
  assert.equal(self.creation_ttl, ttl);
  assert.equal(Date.parse(self.issue_time), self.creation_time * 1000, `issue_time ${self.issue_time} is creation_time ${self.creation_time}`);
  assert.equal(Date.parse(self.expire_time) - Date.parse(self.issue_time), ttl * 1000, `expire_time ${self.expire_time} is issue_time ${self.issue_time} + ${ttl} s`);
  assert.ok(Number.isInteger(self.ttl) && self.ttl > 0 && self.ttl <= ttl, `remaining ttl ${self.ttl} counts down from ${ttl}`);
}

describe('kubernetes auth method through the server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let kube: KubeApiServer;
  let root: ArcaClient;
  let anon: ArcaClient;
  const reviewerFile = () => `${dir.path}/reviewer-token`;
  const auditLog = () => `${dir.path}/audit.log`;

  const login = async (mount: string, role: string, jwt: string) => {
    const r = await anon.request('POST', `auth/${mount}/login`, { role, jwt });
    return { status: r.status, body: r.body as Body };
  };
  const refused = async (mount: string, jwt: string, status: number, code: string, role = 'app') => {
    const r = await login(mount, role, jwt);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code);
    assert.equal(r.body.error?.message.includes(jwt), false, 'the error never echoes the token');
    assert.equal(r.body.auth ?? undefined, undefined);
    return r.body.error!.message;
  };

  before(async () => {
    dir = await tempDir();
    kube = await startKubeApiServer();
    kube.serviceAccounts.set('payments/api', APP.uid);
    kube.reviewerTokens.add('reviewer-1');
    await writeFile(reviewerFile(), 'reviewer-1\n');
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    root = srv.client((await initUnsealed(srv)).root);
    anon = srv.client();
    await root.write('sys/audit/file', { type: 'file', options: { file_path: auditLog() } });
    await root.write('sys/policies/acl/app-read', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
    await root.write('secret/data/app/db', { data: { password: 'pw-app' } });
    await root.write('secret/data/other/db', { data: { password: 'pw-other' } });
    // JWKS mode through OIDC discovery; TokenReview-only mode with a reviewer token file; both.
    await root.write('sys/auth/kubernetes', { type: 'kubernetes' });
    await root.write('auth/kubernetes/config', { oidc_discovery_url: kube.url, jwks_min_refresh_seconds: '1h' });
    await root.write('auth/kubernetes/role/app', ROLE);
    await root.write('sys/auth/k8s-tr', { type: 'kubernetes' });
    await root.write('auth/k8s-tr/config', { kubernetes_host: kube.url, token_reviewer_jwt_file: reviewerFile() });
    await root.write('auth/k8s-tr/role/app', ROLE);
    await root.write('sys/auth/k8s-both', { type: 'kubernetes' });
    await root.write('auth/k8s-both/config', { kubernetes_host: kube.url, token_reviewer_jwt_file: reviewerFile(), pem_keys: kube.keys.map((k) => k.publicPem), issuer: kube.issuer });
    await root.write('auth/k8s-both/role/app', ROLE);
  });
  after(async () => {
    anon?.close();
    root?.close();
    await srv?.stop();
    await kube?.close();
    await dir?.remove();
  });

  it('lists auth mounts in sys/auth relative to auth/, and refuses to disable or re-enable token/', async () => {
    const l = (await root.read('sys/auth')).body['data'] as Record<string, { type: string; config: { token_type: string } }>;
    assert.equal(l['token/']?.type, 'token');
    assert.equal(l['kubernetes/']?.type, 'kubernetes');
    assert.equal(l['kubernetes/']?.config.token_type, 'default-service');
    assert.equal((await root.request('DELETE', 'sys/auth/token')).status, 400);
    assert.equal((await root.request('POST', 'sys/auth/token', { type: 'kubernetes' })).status, 400);
    assert.equal((await root.request('POST', 'sys/auth/kv-as-auth', { type: 'kv' })).status, 400);
    // Mounted as a secrets engine, the method refuses to serve (its login would not be unauthenticated).
    await root.write('sys/mounts/k8s-as-secrets', { type: 'kubernetes' });
    const wrong = await root.request('POST', 'k8s-as-secrets/config', { kubernetes_host: kube.url });
    assert.equal(wrong.status, 400);
    assert.match((wrong.body as Body).error!.message, /sys\/auth/);
    await root.delete('sys/mounts/k8s-as-secrets');
    await root.write('sys/auth/scratch', { type: 'kubernetes' });
    await root.delete('sys/auth/scratch');
    assert.equal(((await root.read('sys/auth')).body['data'] as Record<string, unknown>)['scratch/'], undefined);
  });

  it('logs in a bound projected RS256 token (JWKS mode) with the role policies and SA metadata', async () => {
    const r = await login('kubernetes', 'app', await kube.mint(APP, 0));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const a = r.body.auth!;
    assert.deepEqual(a.policies, ['app-read', 'default']);
    assert.deepEqual(a.metadata, {
      role: 'app', service_account_name: 'api', service_account_namespace: 'payments', service_account_secret_name: '',
      service_account_uid: APP.uid, pod_name: APP.pod!.name, pod_uid: APP.pod!.uid, node_name: APP.node!.name,
    });
    const c = srv.client(a.client_token);
    const self = (await c.read('auth/token/lookup-self')).body['data'] as Lifetime & { meta: Record<string, string>; path: string; display_name: string };
    assert.equal(self.meta['service_account_uid'], APP.uid);
    assert.equal(self.meta['pod_name'], APP.pod!.name);
    assert.equal(self.path, 'auth/kubernetes/login');
    assert.equal(self.display_name, 'kubernetes-payments-api');
    // Issue 18: the login resolves to an identity entity (alias = the service account's uid).
    assert.match((self as unknown as { entity_id: string }).entity_id, /^[0-9a-f-]{36}$/);
    // The role's token_ttl (1h), as issued and as the token reports it.
    assert.equal(a.lease_duration, 3600);
    assertLifetime(self, 3600);
    assert.equal(((await c.read('secret/data/app/db')).body['data'] as { data: { password: string } }).data.password, 'pw-app');
    assert.equal((await c.request('GET', 'secret/data/other/db')).status, 403);
    assert.equal((await c.request('PUT', 'secret/data/app/db', { data: { password: 'x' } })).status, 403);
    c.close();
  });

  it('logs in an ES256 token and does no JWKS fetch per login in the steady state', async () => {
    const before = kube.hits.jwks;
    for (let i = 0; i < 5; i++) assert.equal((await login('kubernetes', 'app', await kube.mint(APP, 1))).status, 200);
    assert.equal(kube.hits.jwks, before);
  });

  it('refuses wrong audience, expired, not yet valid, wrong issuer, unknown kid, alg none and HS256 keyed with the public key', async () => {
    const m = 'kubernetes';
    assert.match(await refused(m, await kube.mint({ ...APP, audiences: ['https://kubernetes.default.svc.cluster.local'] }), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /audience/);
    assert.match(await refused(m, await kube.mint({ ...APP, iatOffset: -7300 }), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /expired/);
    assert.match(await refused(m, await kube.mint({ ...APP, iatOffset: 600 }), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /not valid yet/);
    assert.match(await refused(m, await kube.mint({ ...APP, issuer: 'https://evil.example' }), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /issuer/);
    const jwks = kube.hits.jwks;
    assert.match(await refused(m, await kube.mint({ ...APP, kid: 'no-such-kid' }), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /kid/);
    await refused(m, await kube.mint({ ...APP, kid: 'no-such-kid-2' }), 403, 'ERR_K8S_AUTH_JWT_INVALID');
    assert.ok(kube.hits.jwks - jwks <= 1, 'unknown kids trigger at most one JWKS refetch per refresh interval');
    const claims = { sub: 'system:serviceaccount:payments:api', aud: ['arca'], iss: kube.issuer, 'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api', uid: APP.uid } } };
    assert.match(await refused(m, new UnsecuredJWT(claims).setExpirationTime('1h').encode(), 403, 'ERR_K8S_AUTH_JWT_INVALID'), /algorithm/);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: kube.keys[0]!.kid }).setExpirationTime('1h').sign(new TextEncoder().encode(kube.keys[0]!.publicPem));
    assert.match(await refused(m, hs, 403, 'ERR_K8S_AUTH_JWT_INVALID'), /algorithm/);
    const foreign = await newSigningKey('RS256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: kube.keys[0]!.kid }).setExpirationTime('1h').sign(foreign.privateKey);
    assert.match(await refused(m, forged, 403, 'ERR_K8S_AUTH_JWT_INVALID'), /signature/);
  });

  it('refuses a service account or namespace the role does not bind, and an unknown role', async () => {
    await refused('kubernetes', await kube.mint({ ...APP, name: 'batch' }), 403, 'ERR_K8S_AUTH_NOT_BOUND');
    await refused('kubernetes', await kube.mint({ ...APP, namespace: 'default' }), 403, 'ERR_K8S_AUTH_NOT_BOUND');
    assert.equal((await login('kubernetes', 'app', await kube.mint({ ...APP, name: 'web-frontend' }))).status, 200, 'glob web-* binds');
    await refused('kubernetes', await kube.mint(APP), 400, 'ERR_K8S_AUTH_ROLE_UNKNOWN', 'nope');
    const r = await anon.request('POST', 'auth/kubernetes/login', { role: 'app' });
    assert.equal(r.status, 400);
  });

  it('accepts a legacy Secret token (pem_keys, no issuer) only on a role without audience, which warns', async () => {
    await root.write('sys/auth/k8s-pem', { type: 'kubernetes' });
    await root.write('auth/k8s-pem/config', { verification: 'jwks', pem_keys: kube.keys.map((k) => k.publicPem).join(',') });
    await root.write('auth/k8s-pem/role/app', ROLE);
    const legacy = await legacyToken(kube.keys[0]!, { namespace: 'payments', name: 'api', uid: APP.uid, secretName: 'api-token-x7k2p' });
    const w = await root.write('auth/k8s-pem/role/legacy', { ...ROLE, audience: '' });
    assert.match(String((w.body['warnings'] as string[])[0]), /audience/);
    const ok = await login('k8s-pem', 'legacy', legacy);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.auth!.metadata['service_account_secret_name'], 'api-token-x7k2p');
    assert.equal(ok.body.auth!.metadata['pod_name'], undefined);
    assert.match(await refused('k8s-pem', legacy, 403, 'ERR_K8S_AUTH_JWT_INVALID'), /audience/);
    assert.equal((await login('k8s-pem', 'app', await kube.mint(APP, 1))).status, 200, 'ES256 against the second PEM key');
  });

  it('TokenReview mode: sends the documented request, and survives the reviewer token file being replaced', async () => {
    const n = kube.reviews.length;
    assert.equal((await login('k8s-tr', 'app', await kube.mint(APP))).status, 200);
    assert.deepEqual(kube.reviews[n]!.audiences, ['arca']);
    // Rotate the reviewer token as the kubelet does (atomic replace), revoking the old one.
    kube.reviewerTokens.add('reviewer-2');
    await writeFile(`${reviewerFile()}.new`, 'reviewer-2\n');
    await rename(`${reviewerFile()}.new`, reviewerFile());
    kube.reviewerTokens.delete('reviewer-1');
    assert.equal((await login('k8s-tr', 'app', await kube.mint(APP))).status, 200);
  });

  it('TokenReview mode: refuses authenticated:false and a UID that differs from the token', async () => {
    const foreign = await newSigningKey('ES256');
    const { projectedToken } = await import('../harness/kube-tokens.ts');
    const forged = await projectedToken(foreign, APP, kube.issuer);
    assert.match(await refused('k8s-tr', forged, 403, 'ERR_K8S_AUTH_TOKENREVIEW_DENIED'), /not authenticated/);
    kube.serviceAccounts.set('payments/api', 'recreated-uid');
    try {
      await refused('k8s-tr', await kube.mint(APP), 403, 'ERR_K8S_AUTH_TOKENREVIEW_DENIED');
      kube.uidCheck = 'report-live';
      assert.match(await refused('k8s-tr', await kube.mint(APP), 403, 'ERR_K8S_AUTH_TOKENREVIEW_DENIED'), /UID/);
      // In "both" mode a token that passes JWKS must still pass TokenReview.
      await refused('k8s-both', await kube.mint(APP), 403, 'ERR_K8S_AUTH_TOKENREVIEW_DENIED');
    } finally {
      kube.uidCheck = 'refuse';
      kube.serviceAccounts.set('payments/api', APP.uid);
    }
    assert.equal((await login('k8s-both', 'app', await kube.mint(APP, 1))).status, 200);
  });

  it('answers 503 (never 500) when the API server or the JWKS endpoint is down', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await root.write('sys/auth/k8s-down', { type: 'kubernetes' });
    await root.write('auth/k8s-down/config', { kubernetes_host: dead, token_reviewer_jwt: 'reviewer-x' });
    await root.write('auth/k8s-down/role/app', ROLE);
    assert.match(await refused('k8s-down', await kube.mint(APP), 503, 'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE'), /TokenReview/);
    await root.write('auth/k8s-down/config', { verification: 'jwks', jwks_url: `${dead}/openid/v1/jwks` });
    assert.match(await refused('k8s-down', await kube.mint(APP), 503, 'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE'), /JWKS/);
    const cfg = (await root.read('auth/k8s-down/config')).body['data'] as Record<string, unknown>;
    assert.equal(cfg['token_reviewer_jwt_set'], true);
    assert.equal(JSON.stringify(cfg).includes('reviewer-x'), false, 'config read never returns the reviewer JWT');
  });

  it('range-checks role and config fields with 400 and leaves the role unchanged', async () => {
    const bad: Record<string, unknown>[] = [
      { token_ttl: '100000000h' }, { token_ttl: 'soon' }, { token_num_uses: -1 }, { token_num_uses: 2 ** 40 },
      { token_ttl: '2h', token_max_ttl: '1h' }, { token_bound_cidrs: ['10.0.0.0/99'] }, { bound_service_account_names: ['*', 'api'] },
      { alias_name_source: 'pod' }, { token_policies: ['root'] },
    ];
    for (const b of bad) {
      const r = await root.request('POST', 'auth/kubernetes/role/app', { ...ROLE, ...b });
      assert.equal(r.status, 400, JSON.stringify(b));
      // Out-of-range numbers and durations carry the shared range code; malformed values the generic one.
      assert.ok(['ERR_INVALID_REQUEST', 'ERR_FIELD_OUT_OF_RANGE'].includes(String((r.body as Body).error?.code)), JSON.stringify(b));
    }
    const role = (await root.read('auth/kubernetes/role/app')).body['data'] as Record<string, unknown>;
    assert.equal(role['token_ttl'], 3600);
    assert.deepEqual(role['token_policies'], ['app-read']);
    await root.write('auth/kubernetes/role/legacy', { ...ROLE, audience: '' });
    assert.deepEqual(((await root.list('auth/kubernetes/role')).body['data'] as { keys: string[] }).keys, ['app', 'legacy']);
    for (const b of [{ kubernetes_host: 'not a url' }, { pem_keys: ['-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----'] }, { jwks_min_refresh_seconds: 0 }]) {
      assert.equal((await root.request('POST', 'auth/kubernetes/config', b)).status, 400, JSON.stringify(b));
    }
    await root.delete('auth/kubernetes/role/legacy');
    assert.equal((await root.request('GET', 'auth/kubernetes/role/legacy')).status, 404);
  });

  it('issues periodic tokens (token_period) capped by token_explicit_max_ttl, refuses a periodic batch role, and names ignored fields', async () => {
    const w = await root.write('auth/kubernetes/role/periodic', { ...ROLE, token_period: '2h', token_explicit_max_ttl: '3h', token_typo: 'batch' });
    assert.deepEqual(w.body['warnings'], ['Endpoint ignored these unrecognized parameters: [token_typo]']);
    const batch = await root.request('POST', 'auth/kubernetes/role/periodic', { ...ROLE, token_type: 'batch' });
    assert.equal(batch.status, 400);
    assert.match((batch.body as Body).error!.message, /cannot be 'batch' or 'default_batch' when set to generate periodic tokens/);
    const role = (await root.read('auth/kubernetes/role/periodic')).body['data'] as Record<string, unknown>;
    assert.equal(role['token_type'], 'default', 'the refused write changed nothing');
    assert.equal(role['token_period'], 7200);

    const r = await login('kubernetes', 'periodic', await kube.mint(APP, 0));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const c = srv.client(r.body.auth!.client_token);
    const self = (await c.read('auth/token/lookup-self')).body['data'] as Lifetime & { period: number; explicit_max_ttl: number; renewable: boolean };
    assert.equal(self.period, 7200);
    // The period, not token_ttl (1h), and below token_explicit_max_ttl (3h).
    assert.equal(r.body.auth!.lease_duration, 7200);
    assertLifetime(self, 7200);
    assert.equal(self.explicit_max_ttl, 10800);
    assert.equal(self.renewable, true);
    const renewed = (await c.write('auth/token/renew-self', { increment: '100h' })).body['auth'] as { lease_duration: number };
    assert.ok(renewed.lease_duration <= 7200, `a renewal resets to at most the period: ${renewed.lease_duration}`);
    c.close();
    await root.delete('auth/kubernetes/role/periodic');
  });

  it('a batch role issues hvb. tokens that carry the role policies and metadata, write nothing, and cannot be renewed or revoked', async () => {
    const accessors = async () => ((await root.request('LIST', 'auth/token/accessors')).body['data'] as { keys: string[] }).keys.length;
    await root.write('auth/kubernetes/role/fleet', { ...ROLE, token_type: 'batch', token_ttl: '10m' });
    assert.equal(((await root.read('auth/kubernetes/role/fleet')).body['data'] as Record<string, unknown>)['token_type'], 'batch');
    const before = await accessors();
    const r = await login('kubernetes', 'fleet', await kube.mint(APP));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const a = r.body.auth as unknown as { client_token: string; accessor: string; token_type: string; renewable: boolean; lease_duration: number; metadata: Record<string, string>; orphan: boolean };
    assert.match(a.client_token, /^hvb\./);
    assert.deepEqual([a.token_type, a.accessor, a.renewable, a.orphan, a.lease_duration], ['batch', '', false, true, 600]);
    assert.equal(a.metadata['pod_name'], APP.pod!.name);
    assert.equal(await accessors(), before, 'the login stored no token');

    const c = srv.client(a.client_token);
    assert.equal(((await c.read('secret/data/app/db')).body['data'] as { data: { password: string } }).data.password, 'pw-app');
    assert.equal((await c.request('GET', 'secret/data/other/db')).status, 403, 'exactly the role policies');
    const self = (await c.read('auth/token/lookup-self')).body['data'] as Record<string, unknown>;
    assert.deepEqual([self['type'], self['accessor'], self['renewable'], self['id']], ['batch', '', false, a.client_token]);
    assert.equal((self['meta'] as Record<string, string>)['service_account_uid'], APP.uid);
    assert.deepEqual(self['policies'], ['app-read', 'default']);
    const looked = (await root.write('auth/token/lookup', { token: a.client_token })).body['data'] as Record<string, unknown>;
    assert.equal(looked['display_name'], 'kubernetes-payments-api');
    for (const [path, message] of [['auth/token/renew-self', /batch tokens cannot be renewed/], ['auth/token/revoke-self', /batch tokens cannot be revoked/]] as const) {
      const x = await c.request('POST', path, {});
      assert.equal(x.status, 400, `${path}: ${JSON.stringify(x.body)}`);
      assert.match((x.body as Body).error!.message, message);
    }
    const revoke = await root.request('POST', 'auth/token/revoke', { token: a.client_token });
    assert.equal(revoke.status, 400);
    assert.match((revoke.body as Body).error!.message, /batch tokens cannot be revoked/);
    assert.equal((await c.request('GET', 'secret/data/app/db')).status, 200, 'the refusals changed nothing');
    assert.equal(srv.output().includes(a.client_token.slice(4, 60)), false, 'the server log never holds the token');
    c.close();
    await root.delete('auth/kubernetes/role/fleet');
  });

  it('logs out every token of an auth mount when it is disabled, and a re-enabled mount does not revive them', async () => {
    const setup = async () => {
      await root.write('sys/auth/k8s-gone', { type: 'kubernetes' });
      await root.write('auth/k8s-gone/config', { oidc_discovery_url: kube.url });
      await root.write('auth/k8s-gone/role/svc', ROLE);
      await root.write('auth/k8s-gone/role/fleet', { ...ROLE, token_type: 'batch' });
    };
    const read = (t: string) => srv.client(t).request('GET', 'secret/data/app/db');
    await setup();
    const tokens: string[] = [];
    for (const role of ['svc', 'fleet']) {
      const r = await login('k8s-gone', role, await kube.mint(APP));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      tokens.push(r.body.auth!.client_token);
    }
    const [service, batch] = tokens as [string, string];
    const kept = (await login('kubernetes', 'app', await kube.mint(APP))).body.auth!.client_token;
    for (const t of [service, batch, kept]) assert.equal((await read(t)).status, 200);

    assert.equal((await root.request('DELETE', 'sys/auth/k8s-gone')).status, 204);
    assert.equal((await read(service)).status, 403, 'the service token was revoked');
    assert.equal((await read(batch)).status, 403, 'the batch token is no longer served');
    assert.equal((await read(kept)).status, 200, "another mount's token is untouched");
    await setup();
    assert.equal((await read(service)).status, 403);
    assert.equal((await read(batch)).status, 403, 'a mount enabled again at the same path has a new accessor');
    const fresh = await login('k8s-gone', 'fleet', await kube.mint(APP));
    assert.equal((await read(fresh.body.auth!.client_token)).status, 200);
    await root.request('DELETE', 'sys/auth/k8s-gone');
  });

  it('ties tokens to the role token_bound_cidrs: refused from another client address, service and batch alike', async () => {
    /** A request from a chosen loopback address (127.0.0.n), as a pod elsewhere would send it. */
    const from = (local: string, token: string) => requestFrom(local, srv.addr, 'GET', 'secret/data/app/db', { token });
    for (const token_type of ['service', 'batch']) {
      await root.write('auth/kubernetes/role/pinned', { ...ROLE, token_bound_cidrs: ['127.0.0.1/32'], token_type });
      const r = await login('kubernetes', 'pinned', await kube.mint(APP));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const t = r.body.auth!.client_token;
      assert.equal((await from('127.0.0.1', t)).status, 200, `${token_type}: from the bound address`);
      const elsewhere = await from('127.0.0.3', t);
      assert.equal(elsewhere.status, 403, `${token_type}: from another address`);
      assert.match(elsewhere.body, /token_bound_cidrs/);
      assert.equal(elsewhere.body.includes('pw-app'), false);
      assert.deepEqual(((await srv.client(t).read('auth/token/lookup-self')).body['data'] as { bound_cidrs: string[] }).bound_cidrs, ['127.0.0.1/32']);
    }
    await root.delete('auth/kubernetes/role/pinned');
  });

  it('node-vault performs the login unchanged', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr });
    const r = await vault.kubernetesLogin({ role: 'app', jwt: await kube.mint(APP), mount_point: 'kubernetes' });
    assert.match(r.auth.client_token, /^hvs\./);
    assert.equal(vault.token, r.auth.client_token);
    const s = await vault.read('secret/data/app/db');
    assert.equal(s.data.data.password, 'pw-app');
  });

  it('audits every login with the SA identity and the JWT HMAC’d, never in clear', async () => {
    const jwt = await kube.mint(APP);
    assert.equal((await login('kubernetes', 'app', jwt)).status, 200);
    const bad = await kube.mint({ ...APP, name: 'batch' });
    await login('kubernetes', 'app', bad);
    const hash = ((await root.write('sys/audit-hash/file', { input: jwt })).body['data'] as { hash: string }).hash;
    const badHash = ((await root.write('sys/audit-hash/file', { input: bad })).body['data'] as { hash: string }).hash;
    const responded = (t: string, h: string) => t.split('\n').some((l) => l.includes(h) && l.includes('"type":"response"'));
    const text = await waitFor('audit response entries of both logins', async () => {
      const t = await readFile(auditLog(), 'utf8').catch(() => '');
      return responded(t, hash) && responded(t, badHash) ? t : undefined;
    });
    for (const t of [jwt, bad, jwt.split('.')[1]!, bad.split('.')[2]!]) assert.equal(text.includes(t), false, 'the audit log never holds a JWT');
    assert.equal(srv.output().includes(jwt.split('.')[2]!), false, 'nor does the server log');
    const entries = text.split('\n').filter((l) => l.includes(hash)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const response = entries.find((e) => e['type'] === 'response');
    assert.ok(response, 'the response entry of the good login carries the JWT HMAC');
    assert.match(JSON.stringify(response), /"service_account_uid":"a8b4c2d0-1111/);
    const failed = text.split('\n').find((l) => l.includes(badHash) && l.includes('"type":"response"'));
    assert.ok(failed && /not authorized/.test(failed), 'the refused login is audited with its reason');
    assert.match(failed, /"service_account_name":"batch"/, 'and with the refused service account');
  });
});
