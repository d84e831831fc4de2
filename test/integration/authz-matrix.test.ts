/**
 * Every route the server registers × {no token, token without the policy, token with a deny rule,
 * token with the right policy, root}. Only the last two may pass authorization. "Passing" means the
 * request got past the ACL: anything but a 403 `ERR_PERMISSION_DENIED` (an engine may still say
 * 400/404, or 403 about a token named in the body).
 *
 * The routes are enumerated from the running server (Core.listRoutes: every mounted engine's router
 * and the core's own routes; httpRoutes: the raw fastify routes), so a new route without a row here
 * fails the test (issue 12, done-when).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { httpRoutes } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { tempDir } from '../harness/index.ts';
import { MATRIX_ROOT, type Method, ROWS, type Row } from './route-rows.ts';

/** Raw endpoints served outside the core, without a token by design (Vault's unauthenticated sys paths). */
const RAW_UNAUTHENTICATED = ['/v1/sys/init', '/v1/sys/seal-status', '/v1/sys/unseal', '/v1/sys/health', '/v1/sys/leader'];
/** The one fastify route every other request goes through: mapped, then Core.handle. */
const LOGICAL = '/v1/*';

const METHOD_OP: Record<Method, string> = { GET: 'read', LIST: 'list', PUT: 'write', POST: 'write', PATCH: 'patch', DELETE: 'delete' };
const normalize = (op: string) => (op === 'create' || op === 'update' ? 'write' : op);

const ROOT = MATRIX_ROOT;

describe('authorization matrix (real server, default deny)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  const client = (token?: string) => new ArcaClient({ addr: srv.address, ...(token ? { token } : {}) });

  before(async () => {
    dir = await tempDir();
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true }), silentLogger(), dir.path);
    await devBootstrap(srv.core, ROOT);
  });
  after(async () => {
    await srv?.close();
    await dir?.remove();
  });

  async function token(policies: string[]): Promise<string> {
    const r = await client(ROOT).write('auth/token/create', { policies, no_default_policy: true, ttl: '1h' });
    return (r.body['auth'] as { client_token: string }).client_token;
  }

  /**
   * Whether the request got past the ACL (anything but a 403 ERR_PERMISSION_DENIED), and whether it
   * reached a handler (not "no handler for route" nor an operation the route lacks).
   */
  async function passes(rt: Row, tok: string | undefined): Promise<{ passed: boolean; routed: boolean; status: number }> {
    const c = client(tok);
    const headers: Record<string, string> = rt.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
    const r = rt.method === 'LIST' ? await c.request('GET', `${rt.path}/?list=true`, undefined, headers) : await c.request(rt.method, rt.path, rt.body, headers);
    const err = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    const routed = err?.code !== 'ERR_UNSUPPORTED_OPERATION' && !(err?.code === 'ERR_NOT_FOUND' && /no handler/.test(err.message ?? ''));
    return { passed: !(r.status === 403 && err?.code === 'ERR_PERMISSION_DENIED'), routed, status: r.status };
  }

  it('has a row for every route and operation the server registers, and none for a route it does not', () => {
    const registered = new Set(srv.core.listRoutes().flatMap((r) => (r.operations.length ? r.operations.map((op) => `${r.path} ${normalize(op)}`) : [`${r.path} (engine lists no routes)`])));
    const covered = new Set(ROWS.flatMap((r) => [r.route].flat().map((route) => `${route} ${METHOD_OP[r.method]}`)));
    assert.deepEqual([...registered].filter((k) => !covered.has(k)).sort(), [], 'routes without a matrix row');
    assert.deepEqual([...covered].filter((k) => !registered.has(k)).sort(), [], 'matrix rows for routes the server does not register');
    // The web UI's static files (src/http/ui-static.ts: public, no API behind them; the app calls
    // /v1 with its token like any client) are the only other routes: `/` (a redirect) and everything under /ui.
    const all = [...new Set(httpRoutes(srv.app).map((r) => r.url))];
    const ui = all.filter((u) => u === '/' || u === '/ui' || u.startsWith('/ui/'));
    assert.ok(ui.includes('/ui/*'), 'the UI routes are registered');
    const raw = all.filter((u) => !ui.includes(u));
    assert.deepEqual(raw.sort(), [...RAW_UNAUTHENTICATED, LOGICAL].sort(), 'fastify routes besides the logical one and the UI');
  });

  it('enforces allowed_parameters and denied_parameters', async () => {
    const root = client(ROOT);
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
    const c = client(await token(['params']));
    assert.equal((await c.request('POST', 'transit/encrypt/pk', { plaintext: 'aGk=' })).status, 200);
    assert.equal((await c.request('POST', 'transit/encrypt/pk', { plaintext: 'aGk=', key_version: 1 })).status, 403);
    assert.equal((await c.request('POST', 'auth/token/create', { policies: ['params'] })).status, 200);
    assert.equal((await c.request('POST', 'auth/token/create', { no_parent: true })).status, 403);
  });

  it('answers 403 before routing for unmounted paths', async () => {
    const tok = await token(['unrelated']);
    assert.equal((await client(tok).request('GET', 'nomount/x')).status, 403);
  });

  it('keeps a deny on X/* against LIST X/ (issue 12 item 4)', async () => {
    const root = client(ROOT);
    await root.write('secret/data/admin/k', { data: { a: '1' } });
    await root.write('secret/data/other/k', { data: { a: '1' } });
    await root.write('sys/policies/acl/listdeny', { policy: 'path "secret/metadata/*" { capabilities = ["list"] }\npath "secret/metadata/admin/*" { capabilities = ["deny"] }' });
    const c = client(await token(['listdeny']));
    const denied = await c.request('GET', 'secret/metadata/admin/?list=true');
    assert.equal(denied.status, 403);
    assert.equal(JSON.stringify(denied.body).includes('"k"'), false);
    assert.equal((await c.request('GET', 'secret/metadata/other/?list=true')).status, 200);
    assert.equal((await c.request('GET', 'secret/metadata/?list=true')).status, 200);
  });

  it('lets only the right policy and root through, for every route', async () => {
    const root = client(ROOT);
    const other = await token(['unrelated']);
    await root.write('sys/policies/acl/unrelated', { policy: 'path "nothing/here" { capabilities = ["read"] }' });
    const failures: string[] = [];
    for (const [i, rt] of ROWS.entries()) {
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
        const { passed, status } = await passes(rt, tok);
        if (passed !== (allowed || rt.open === true)) failures.push(`${rt.method} ${rt.path} [${name}] → ${status}`);
      }
      if (rt.path !== 'sys/seal' && !rt.skipRoot) {
        const { passed, routed, status } = await passes(rt, ROOT);
        if (!passed) failures.push(`${rt.method} ${rt.path} [root] → ${status}`);
        if (!routed) failures.push(`${rt.method} ${rt.path} [root] → ${status}: reached no handler, so the row exercises no route`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
