/**
 * Issue 3: every authenticated route × {no token, token without the policy, token with a deny rule,
 * token with the right policy, root}. Only the last two may pass authorization. "Passing" means the
 * request got past the ACL (any status but 403; an engine may still say 400/404 about the data).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../harness/arca.ts';

interface Route {
  method: 'GET' | 'LIST' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  caps: string[];
  /** ACL path to grant, when it differs from `path` (lists grant on the folder). */
  grant?: string;
}

const ROUTES: Route[] = [
  { method: 'GET', path: 'sys/mounts', caps: ['read'] },
  { method: 'POST', path: 'sys/mounts/m1', body: { type: 'kv' }, caps: ['create', 'update'] },
  { method: 'GET', path: 'sys/mounts/secret', caps: ['read'] },
  { method: 'DELETE', path: 'sys/mounts/m1', caps: ['delete'] },
  { method: 'LIST', path: 'sys/policies/acl', caps: ['list'], grant: 'sys/policies/acl/' },
  { method: 'PUT', path: 'sys/policies/acl/tmp', body: { policy: 'path "x" { capabilities = ["read"] }' }, caps: ['create', 'update'] },
  { method: 'GET', path: 'sys/policies/acl/tmp', caps: ['read'] },
  { method: 'DELETE', path: 'sys/policies/acl/tmp', caps: ['delete'] },
  { method: 'PUT', path: 'sys/rotate', caps: ['update', 'sudo'] },
  { method: 'GET', path: 'sys/key-status', caps: ['read'] },
  { method: 'GET', path: 'sys/audit', caps: ['read', 'sudo'] },
  { method: 'PUT', path: 'sys/audit-hash/none', body: { input: 'x' }, caps: ['update', 'sudo'] },
  { method: 'PUT', path: 'sys/capabilities-self', body: { paths: ['secret/data/a'] }, caps: ['update'] },
  { method: 'POST', path: 'auth/token/create', body: { policies: ['default'] }, caps: ['update', 'create'] },
  { method: 'GET', path: 'auth/token/lookup-self', caps: ['read'] },
  // A real token: looking up an unknown one is Vault's 403 `bad token`, past the ACL.
  { method: 'POST', path: 'auth/token/lookup', body: { token: 'matrix-root-token' }, caps: ['update'] },
  { method: 'POST', path: 'auth/token/lookup-accessor', body: { accessor: 'nope' }, caps: ['update'] },
  { method: 'LIST', path: 'auth/token/accessors', caps: ['list', 'sudo'], grant: 'auth/token/accessors/' },
  { method: 'POST', path: 'auth/token/revoke', body: { token: 'hvs.nope' }, caps: ['update'] },
  { method: 'POST', path: 'secret/data/app', body: { data: { a: '1' } }, caps: ['create', 'update'] },
  { method: 'GET', path: 'secret/data/app', caps: ['read'] },
  { method: 'PATCH', path: 'secret/data/app', body: { data: { b: '2' } }, caps: ['patch'] },
  { method: 'GET', path: 'secret/metadata/app', caps: ['read'] },
  { method: 'POST', path: 'secret/metadata/app', body: { max_versions: 5 }, caps: ['create', 'update'] },
  { method: 'LIST', path: 'secret/metadata', caps: ['list'], grant: 'secret/metadata/' },
  { method: 'POST', path: 'secret/delete/app', body: { versions: [1] }, caps: ['update'] },
  { method: 'POST', path: 'secret/undelete/app', body: { versions: [1] }, caps: ['update'] },
  { method: 'POST', path: 'secret/destroy/app', body: { versions: [1] }, caps: ['update'] },
  { method: 'DELETE', path: 'secret/data/app', caps: ['delete'] },
  { method: 'DELETE', path: 'secret/metadata/app', caps: ['delete'] },
  { method: 'GET', path: 'secret/config', caps: ['read'] },
  { method: 'POST', path: 'transit/keys/k', body: {}, caps: ['create', 'update'] },
  { method: 'GET', path: 'transit/keys/k', caps: ['read'] },
  { method: 'LIST', path: 'transit/keys', caps: ['list'], grant: 'transit/keys/' },
  { method: 'POST', path: 'transit/keys/k/rotate', body: {}, caps: ['update'] },
  { method: 'POST', path: 'transit/keys/k/config', body: { deletion_allowed: true }, caps: ['update'] },
  { method: 'POST', path: 'transit/encrypt/k', body: { plaintext: 'aGk=' }, caps: ['update', 'create'] },
  { method: 'POST', path: 'transit/decrypt/k', body: { ciphertext: 'vault:v1:AAAA' }, caps: ['update'] },
  { method: 'POST', path: 'transit/rewrap/k', body: { ciphertext: 'vault:v1:AAAA' }, caps: ['update'] },
  { method: 'POST', path: 'transit/datakey/plaintext/k', body: {}, caps: ['update'] },
  { method: 'POST', path: 'transit/random/16', body: {}, caps: ['update'] },
  { method: 'DELETE', path: 'transit/keys/k', caps: ['delete'] },
  { method: 'GET', path: 'sys/metrics', caps: ['read'] },
  { method: 'PUT', path: 'sys/seal', body: {}, caps: ['update', 'sudo'] }, // last: seals the server
];

const ROOT = 'matrix-root-token';

describe('authorization matrix (real server, default deny)', () => {
  let srv: ArcaProcess;
  before(async () => {
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    const root = srv.client(ROOT);
    // Wait for dev bootstrap to finish.
    for (let i = 0; i < 100 && (await root.request('GET', 'sys/health')).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });
  after(async () => srv?.stop());

  async function token(policies: string[]): Promise<string> {
    const r = await srv.client(ROOT).write('auth/token/create', { policies, no_default_policy: true, ttl: '1h' });
    return (r.body['auth'] as { client_token: string }).client_token;
  }

  async function call(rt: Route, tok: string | undefined): Promise<number> {
    const c = srv.client(tok);
    const headers: Record<string, string> = rt.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
    if (rt.method === 'LIST') return (await c.request('GET', `${rt.path}/?list=true`, undefined, headers)).status;
    return (await c.request(rt.method, rt.path, rt.body, headers)).status;
  }

  it('enforces allowed_parameters and denied_parameters', async () => {
    const root = srv.client(ROOT);
    await root.write('sys/policies/acl/params', {
      policy: `
        path "transit/encrypt/pk" {
          capabilities = ["create", "update"]
          allowed_parameters = { "plaintext" = [] }
        }
        path "auth/token/create" {
          capabilities = ["update"]
          denied_parameters = { "no_parent" = [] }
        }`,
    });
    const c = srv.client(await token(['params']));
    assert.equal((await c.request('POST', 'transit/encrypt/pk', { plaintext: 'aGk=' })).status, 200);
    assert.equal((await c.request('POST', 'transit/encrypt/pk', { plaintext: 'aGk=', key_version: 1 })).status, 403);
    assert.equal((await c.request('POST', 'auth/token/create', { policies: ['params'] })).status, 200);
    assert.equal((await c.request('POST', 'auth/token/create', { no_parent: true })).status, 403);
  });

  it('answers 403 before routing for unmounted paths', async () => {
    const tok = await token(['unrelated']);
    assert.equal((await srv.client(tok).request('GET', 'nomount/x')).status, 403);
  });
  it('lets only the right policy and root through, for every route', async () => {
    const root = srv.client(ROOT);
    const other = await token(['unrelated']);
    await root.write('sys/policies/acl/unrelated', { policy: 'path "nothing/here" { capabilities = ["read"] }' });
    const failures: string[] = [];
    for (const [i, rt] of ROUTES.entries()) {
      const grant = rt.grant ?? rt.path;
      await root.write(`sys/policies/acl/right${i}`, { policy: `path "${grant}" { capabilities = ${JSON.stringify(rt.caps)} }` });
      await root.write(`sys/policies/acl/deny${i}`, { policy: `path "${grant}" { capabilities = ["deny"] }` });
      const right = await token([`right${i}`]);
      const denied = await token([`right${i}`, `deny${i}`]);
      const cells: [string, string | undefined, boolean][] = [
        ['no token', undefined, false],
        ['without policy', other, false],
        ['deny rule', denied, false],
        ['right policy', right, true],
      ];
      for (const [name, tok, allowed] of cells) {
        const status = await call(rt, tok);
        if ((status !== 403) !== allowed) failures.push(`${rt.method} ${rt.path} [${name}] → ${status}`);
      }
      if (rt.path !== 'sys/seal') {
        const status = await call(rt, ROOT);
        if (status === 403) failures.push(`${rt.method} ${rt.path} [root] → 403`);
      }
    }
    assert.deepEqual(failures, []);
  });

});
