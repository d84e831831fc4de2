/**
 * "No partial write", when storage itself fails: every valid request of the route rows (one per route
 * and operation the dev server registers, route-rows.ts) and of the other engines, sent as root while
 * the storage under the barrier refuses every write after the first k (k = 0, 1, 2, … until the
 * request no longer reaches the fault). Whenever the fault was reached, the request must have failed
 * and the storage must hold exactly the bytes it held before: a request that wrote k records and then
 * failed would leave a half-made object (a record without its index, a token without its accessor).
 *
 * The storage is the real in-memory backend with a switch (the barrier, engines and HTTP server above
 * it are the real ones), handed to the real server assembly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { ArcaError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { type CommitOps, InmemStorage } from '../../src/storage/index.ts';
import { tempDir } from '../harness/index.ts';
import { MATRIX_ROOT, ROWS, type Row } from './route-rows.ts';

/** Real in-memory storage that refuses every write after `allowed` writes, as an unreachable backend does. */
class FailingWrites extends InmemStorage {
  allowed: number | undefined;
  writes = 0;
  #write(): void {
    this.writes++;
    if (this.allowed !== undefined && this.writes > this.allowed) throw new ArcaError('ERR_STORAGE_UNAVAILABLE', 'storage backend unreachable (test fault)');
  }
  override async put(key: string, value: Uint8Array): Promise<void> {
    this.#write();
    return super.put(key, value);
  }
  override async delete(key: string): Promise<void> {
    this.#write();
    return super.delete(key);
  }
  override async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    this.#write();
    return super.putIf(key, value, expected);
  }
  override async commit(ops: CommitOps): Promise<boolean> {
    this.#write();
    return super.commit(ops);
  }

  async dump(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const walk = async (prefix: string): Promise<void> => {
      for (const child of await this.list(prefix)) {
        if (child.endsWith('/')) await walk(prefix + child);
        else out.set(prefix + child, Buffer.from((await this.get(prefix + child))!).toString('base64'));
      }
    };
    await walk('');
    return out;
  }
}

/** Valid requests for the engines the dev server does not mount (mounted in `before`). */
const OTHER_ROWS: Pick<Row, 'method' | 'path' | 'body'>[] = [
  { method: 'POST', path: 'pki/root/generate/internal', body: { common_name: 'wf root', key_type: 'ec', ttl: '8760h' } },
  { method: 'POST', path: 'pki/roles/r', body: { allow_any_name: true, ttl: '1h' } },
  { method: 'POST', path: 'pki/issue/r', body: { common_name: 'node-1', ttl: '10m' } },
  { method: 'POST', path: 'pki/config/urls', body: { issuing_certificates: ['http://127.0.0.1/ca'] } },
  { method: 'POST', path: 'auth/userpass/users/u', body: { password: 'pw-write-failure', token_policies: 'default' } },
  { method: 'POST', path: 'auth/userpass/login/u', body: { password: 'pw-write-failure' } },
  { method: 'POST', path: 'auth/userpass/users/u/policies', body: { token_policies: 'default,other' } },
  { method: 'POST', path: 'auth/kubernetes/config', body: { kubernetes_host: 'https://127.0.0.1:1' } },
  { method: 'POST', path: 'auth/kubernetes/role/r', body: { bound_service_account_names: 'a', bound_service_account_namespaces: 'b', audience: 'arca' } },
  { method: 'POST', path: 'auth/oidc/role/r', body: { allowed_redirect_uris: ['http://127.0.0.1/cb'], user_claim: 'sub' } },
  { method: 'POST', path: 'sys/auth/up2', body: { type: 'userpass' } },
  { method: 'POST', path: 'sys/remount', body: { from: 'transit', to: 'transit2' } },
  { method: 'POST', path: 'transit2/keys/moved', body: {} },
  // Identity objects with indexes and references: an entity in a group, renamed, then deleted.
  { method: 'POST', path: 'identity/entity/name/wf-e', body: { policies: ['p'] } },
  { method: 'POST', path: 'identity/group/name/wf-g', body: { policies: ['p'] } },
  { method: 'DELETE', path: 'identity/group/name/wf-g' },
  { method: 'DELETE', path: 'identity/entity/name/wf-e' },
  // A mount with data, then gone: the table entry and every record under it.
  { method: 'POST', path: 'sys/mounts/wf-kv', body: { type: 'kv', options: { version: '2' } } },
  { method: 'POST', path: 'wf-kv/data/a', body: { data: { v: '1' } } },
  { method: 'POST', path: 'wf-kv/data/a', body: { data: { v: '2' } } },
  { method: 'POST', path: 'wf-kv/data/b', body: { data: { v: '1' } } },
  { method: 'POST', path: 'wf-kv/destroy/a', body: { versions: [1] } },
  { method: 'DELETE', path: 'wf-kv/metadata/a' },
  { method: 'DELETE', path: 'sys/mounts/wf-kv' },
  { method: 'POST', path: 'transit/keys/wf-t', body: {} },
  { method: 'POST', path: 'transit/keys/wf-t/rotate', body: {} },
  { method: 'POST', path: 'transit/keys/wf-t/config', body: { deletion_allowed: true, min_decryption_version: 2 } },
  { method: 'DELETE', path: 'transit/keys/wf-t' },
  { method: 'DELETE', path: 'auth/userpass/users/u' },
  { method: 'DELETE', path: 'sys/auth/up2' },
];

/** Runs `request` with the k-th write failing, for k = 0, 1, …; returns what each faulted attempt left changed. */
async function faulted(storage: FailingWrites, request: () => Promise<{ status: number }>): Promise<{ reached: number; left: string[] }> {
  let reached = 0;
  const left: string[] = [];
  for (let k = 0; k <= 12; k++) {
    const before = await storage.dump();
    storage.writes = 0;
    storage.allowed = k;
    let status: number;
    try {
      status = (await request()).status;
    } finally {
      storage.allowed = undefined;
    }
    if (storage.writes <= k) break;
    reached++;
    const after = await storage.dump();
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));
    if (changed.length || status < 500) left.push(`write ${k + 1} failing → ${status}, ${changed.length} key(s) changed`);
  }
  return { reached, left };
}

describe('a request whose storage writes fail part-way leaves storage as it was', () => {
  let srv: RunningServer;
  const storage = new FailingWrites();
  let root: ArcaClient;

  before(async () => {
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true, expirySweep: { intervalSeconds: 86_400 } }), silentLogger(), undefined, { storage });
    await devBootstrap(srv.core, MATRIX_ROOT);
    root = new ArcaClient({ addr: srv.address, token: MATRIX_ROOT });
    await root.write('sys/mounts/pki', { type: 'pki' });
    for (const t of ['userpass', 'kubernetes', 'oidc']) await root.write(`sys/auth/${t}`, { type: t });
  });
  after(async () => srv?.close());

  async function send(r: Pick<Row, 'method' | 'path' | 'body'>): Promise<{ status: number; body: unknown }> {
    if (r.method === 'LIST') return root.request('GET', `${r.path}/?list=true`);
    const headers: Record<string, string> = r.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
    return root.request(r.method, r.path, r.body, headers);
  }

  it('revokes a token with children (revoke-orphan, then revoke) all or nothing', async () => {
    await root.write('sys/policies/acl/wf-tokens', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const create = async (c: ArcaClient) => ((await c.write('auth/token/create', { policies: ['wf-tokens'], ttl: '1h' })).body['auth'] as { client_token: string }).client_token;
    const parent = await create(root);
    const asParent = new ArcaClient({ addr: srv.address, token: parent });
    const children = [await create(asParent), await create(asParent)];
    const orphan = await faulted(storage, () => root.request('POST', 'auth/token/revoke-orphan', { token: parent }));
    assert.ok(orphan.reached >= 1, 'revoke-orphan reached the fault');
    assert.deepEqual(orphan.left, []);
    // The children outlived their parent as orphans; now a tree: one of them with a child of its own.
    for (const c of children) assert.equal((await root.request('POST', 'auth/token/lookup', { token: c })).status, 200);
    const grandchild = await create(new ArcaClient({ addr: srv.address, token: children[0]! }));
    const tree = await faulted(storage, () => root.request('POST', 'auth/token/revoke', { token: children[0] }));
    // Children go first, one commit each (revocation fails safe: a child is never left without its
    // parent); so a fault after the first commit may leave the grandchild revoked and the rest standing.
    assert.ok(tree.reached >= 1);
    assert.equal((await root.request('POST', 'auth/token/lookup', { token: grandchild })).status, 403);
    assert.equal((await root.request('POST', 'auth/token/lookup', { token: children[0] })).status, 403);
    assert.equal((await root.request('POST', 'auth/token/lookup', { token: children[1] })).status, 200);
  });

  it('for every route row and the other engines\' writes', async () => {
    const rows = [...ROWS.filter((r) => r.path !== 'sys/seal' && !r.skipRoot), ...OTHER_ROWS];
    const failures: string[] = [];
    let faultsReached = 0;
    for (const row of rows) {
      for (let k = 0; k <= 12; k++) {
        const before = await storage.dump();
        storage.writes = 0;
        storage.allowed = k;
        let r: { status: number; body: unknown };
        try {
          r = await send(row);
        } finally {
          storage.allowed = undefined;
        }
        if (storage.writes <= k) break; // the request made at most k writes: it ran to its end
        faultsReached++;
        const what = `${row.method} ${row.path} with write ${k + 1} failing → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
        const after = await storage.dump();
        // A login resolves its entity (one commit: entity, name, alias, index) before it issues the
        // token. If the token's write fails, the entity stays: it is what the user's next login makes
        // and finds, as in Vault. Nothing else may remain.
        const kept = (key: string) => /\/login(\/|$)/.test(row.path) && key.startsWith('sys/identity/');
        const changed = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key) && !kept(key));
        if (changed.length) failures.push(`${what}: left ${changed.length} changed key(s): ${changed.slice(0, 4).join(', ')}`);
        if (r.status < 500) failures.push(`${what}: answered as if the failed write did not matter`);
        if (changed.length || r.status < 500) break;
      }
    }
    assert.ok(faultsReached > 40, `only ${faultsReached} faults reached: the rows do not write`);
    process.stderr.write(`[write-failure] ${rows.length} requests, ${faultsReached} failed writes reached\n`);
    assert.deepEqual(failures, []);
  });

  it('revokes a certificate and lists it in the CRL in one write, or neither', async () => {
    const issued = (await root.write('pki/issue/r', { common_name: 'node-2', ttl: '10m' })).body['data'] as { serial_number: string };
    const r = await faulted(storage, () => root.request('POST', 'pki/revoke', { serial_number: issued.serial_number }));
    assert.ok(r.reached >= 1, 'the revocation reached the fault');
    assert.deepEqual(r.left, []);
    const crl = await fetch(`${srv.address}/v1/pki/crl/pem`, { headers: { 'x-vault-token': MATRIX_ROOT } }).then((x) => x.text());
    const listed = execFileSync('openssl', ['crl', '-noout', '-text'], { input: crl }).toString();
    assert.match(listed, new RegExp(`Serial Number: ${issued.serial_number.replace(/:/g, '').toUpperCase()}`));
  });

  it('leaves no mount behind when an enable is refused by the engine or its write fails', async () => {
    const listed = async (path: string) => Object.keys((await root.read('sys/mounts')).body['data'] as Record<string, unknown>).includes(path);
    // The pki engine refuses the option when it starts: before, the table already held the mount, and
    // the next unseal failed on it.
    const bad = await root.request('POST', 'sys/mounts/wf-pki', { type: 'pki', options: { key_storage: 'bogus' } });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(await listed('wf-pki/'), false);
    assert.equal((await root.request('POST', 'sys/mounts/wf-pki', { type: 'pki' })).status, 204);
    // An enable with its config is one write: a failure leaves neither the mount nor its config.
    const enable = () => root.request('POST', 'sys/auth/wf-up', { type: 'userpass', config: { default_lease_ttl: '5m', max_lease_ttl: '1h' } });
    const r = await faulted(storage, enable);
    assert.equal(r.reached, 1);
    assert.deepEqual(r.left, []);
    const auths = (await root.read('sys/auth')).body['data'] as Record<string, { config: { default_lease_ttl: number } }>;
    assert.equal(auths['wf-up/']?.config.default_lease_ttl, 300, 'enabled once the write went through, with its config');
  });

  it('disables an auth method only once every token it issued is revoked', async () => {
    await root.write('sys/auth/wf-up2', { type: 'userpass' });
    await root.write('auth/wf-up2/users/a', { password: 'pw-wf-a' });
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push(((await root.write('auth/wf-up2/login/a', { password: 'pw-wf-a' })).body['auth'] as { client_token: string }).client_token);
    const alive = async (t: string) => (await root.request('POST', 'auth/token/lookup', { token: t })).status === 200;
    storage.writes = 0;
    storage.allowed = 1; // one token revoked, then the storage goes away
    const failed = await root.request('DELETE', 'sys/auth/wf-up2').finally(() => {
      storage.allowed = undefined;
    });
    assert.equal(failed.status, 503);
    assert.ok(Object.keys((await root.read('sys/auth')).body['data'] as object).includes('wf-up2/'), 'still enabled: a retry can finish the job');
    assert.equal((await Promise.all(tokens.map(alive))).filter(Boolean).length, 2);
    assert.equal((await root.request('DELETE', 'sys/auth/wf-up2')).status, 204);
    assert.deepEqual(await Promise.all(tokens.map(alive)), [false, false, false]);
  });

  it('rewraps a wrapped response in one write: a failure leaves the old token valid', async () => {
    const wrapped = await root.request('POST', 'sys/wrapping/wrap', { answer: 'wf-wrapped-value' }, { 'x-vault-wrap-ttl': '5m' });
    const old = (wrapped.body as { wrap_info: { token: string } }).wrap_info.token;
    const r = await faulted(storage, () => root.request('POST', 'sys/wrapping/rewrap', { token: old }));
    assert.ok(r.reached >= 1);
    assert.deepEqual(r.left, []);
    // The fault-free attempt rewrapped it: the old token is spent, the new one holds the response.
    assert.equal((await root.request('POST', 'sys/wrapping/unwrap', { token: old })).status, 400);
  });

  it('enables and disables an audit device as stored: a failed write leaves it as it was, in storage and in effect', async () => {
    const dir = await tempDir();
    try {
      const devices = async () => Object.keys((await root.read('sys/audit')).body['data'] as Record<string, unknown>);
      const failingOnce = async (request: () => Promise<{ status: number }>) => {
        storage.allowed = 0;
        try {
          return (await request()).status;
        } finally {
          storage.allowed = undefined;
        }
      };
      const enable = () => root.request('PUT', 'sys/audit/wf-file', { type: 'file', options: { file_path: `${dir.path}/audit.log` } });
      assert.equal(await failingOnce(enable), 503);
      assert.deepEqual(await devices(), [], 'not stored, so not enabled');
      assert.equal((await enable()).status, 204, 'a retry enables it');
      assert.deepEqual(await devices(), ['wf-file/']);
      const disable = () => root.request('DELETE', 'sys/audit/wf-file');
      assert.equal(await failingOnce(disable), 503);
      assert.deepEqual(await devices(), ['wf-file/'], 'still stored, so still enabled');
      assert.equal((await disable()).status, 204);
      assert.deepEqual(await devices(), []);
    } finally {
      await dir.remove();
    }
  });
});

describe('sys/init over a storage whose writes fail', () => {
  it('stores the seal records, root token and mount table in one write: a failure leaves the store uninitialized, and init runs again', async () => {
    const storage = new FailingWrites();
    const srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' } }), silentLogger(), undefined, { storage });
    try {
      const anon = new ArcaClient({ addr: srv.address });
      let last: Awaited<ReturnType<ArcaClient['request']>> | undefined;
      const init = async () => (last = await anon.request('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2 }));
      const r = await faulted(storage, async () => {
        const res = await init();
        // Checked while the fault is still in place: a failed init must leave the server uninitialized.
        if (res.status >= 500) assert.equal((await anon.request('GET', 'sys/init')).body['initialized'], false);
        return res;
      });
      assert.equal(r.reached, 1, 'init is one write');
      assert.deepEqual(r.left, []);
      // faulted's last round ran without a fault: that init succeeded, and its keys and root token work.
      assert.equal(last?.status, 200);
      const { keys, root_token: rootToken } = last.body as { keys: string[]; root_token: string };
      assert.equal((await init()).status, 400, 'initialized once');
      for (const key of keys.slice(0, 2)) assert.equal((await anon.request('PUT', 'sys/unseal', { key })).status, 200);
      const self = await new ArcaClient({ addr: srv.address, token: rootToken }).read('auth/token/lookup-self');
      assert.deepEqual((self.body['data'] as { policies: string[] }).policies, ['root']);
      const mounts = await new ArcaClient({ addr: srv.address, token: rootToken }).read('sys/mounts');
      assert.ok((mounts.body['data'] as Record<string, unknown>)['sys/'], 'the mount table was stored with the seal records');
    } finally {
      await srv.close();
    }
  });
});
