/**
 * sys/storage/snapshot and `arca operator snapshot save|restore` on a real server over SQLite (the
 * backend whose file cannot be copied while the server runs): a snapshot taken online brings back
 * secrets, policies, transit keys and tokens as they were, removes what came after, survives a
 * barrier rotation, a rekey and a new audit device in between (the current unseal keys keep working,
 * the device stays), and a snapshot of
 * another server, or anything that is not a snapshot, is refused without changing anything.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { runArca } from '../../src/cli/testing.ts';
import { digestOf } from '../../src/core/snapshot-file.ts';
import { tempDir } from '../harness/index.ts';

const CANARY = 'snapshot-canary-Vq9x';

/** `arca operator snapshot …` as a user runs it, against `srv` with `token`. */
function cli(srv: RunningServer, token: string, ...args: string[]) {
  const { VAULT_TOKEN: _t, VAULT_ADDR: _a, ...base } = process.env;
  return runArca({ ...base, ARCA_ADDR: srv.address, ARCA_TOKEN: token }, ['operator', 'snapshot', ...args]);
}

async function startServer(dir: string): Promise<{ srv: RunningServer; keys: string[]; root: ArcaClient; anon: ArcaClient }> {
  const srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'sqlite' }, expirySweep: { intervalSeconds: 86_400 } }), silentLogger(), dir);
  const anon = new ArcaClient({ addr: srv.address });
  const init = await anon.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  const { keys, root_token: rootToken } = init.body as { keys: string[]; root_token: string };
  await anon.call('PUT', 'sys/unseal', { key: keys[0] });
  return { srv, keys, root: new ArcaClient({ addr: srv.address, token: rootToken }), anon };
}

describe('storage snapshots: save online, restore in place', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    dir = await tempDir('arca-snapshot-');
    s = await startServer(join(dir.path, 'data'));
    await s.root.write('sys/audit/file', { type: 'file', options: { file_path: join(dir.path, 'audit.log') } });
  });
  after(async () => {
    await s?.srv.close();
    await dir?.remove();
  });

  it('restores secrets, policies, transit keys and tokens as they were, across a rotation and a rekey', async () => {
    const { root, anon } = s;
    await root.write('secret/data/app', { data: { password: CANARY } });
    await root.write('sys/policies/acl/snap-p', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    await root.write('transit/keys/k', {});
    const ciphertext = ((await root.write('transit/encrypt/k', { plaintext: Buffer.from(CANARY).toString('base64') })).body['data'] as { ciphertext: string }).ciphertext;
    const before = String(((await root.write('auth/token/create', { policies: ['snap-p'], ttl: '1h' })).body['auth'] as { client_token: string }).client_token);

    const file = join(dir.path, 'arca.snap');
    const saved = await cli(s.srv, root.token!, 'save', file);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const bytes = await readFile(file);
    const doc = JSON.parse(gunzipSync(bytes).toString()) as { format: string; created: string; entries: [string, string][] };
    assert.equal(doc.format, 'arca-snapshot/v1');
    assert.ok(doc.entries.some(([k]) => k === 'core/seal-config'));
    assert.ok(!gunzipSync(bytes).toString().includes(CANARY) && !bytes.includes(CANARY), 'ciphertext only');
    assert.notEqual((await cli(s.srv, root.token!, 'save', file)).code, 0, 'never overwrites a file');
    assert.deepEqual(await readFile(file), bytes);

    // Everything changes after the snapshot, the barrier keyring and the unseal key included.
    await root.write('secret/data/app', { data: { password: 'changed-after' } });
    await root.write('secret/data/later', { data: { v: 'made-after' } });
    await root.delete('sys/policies/acl/snap-p');
    await root.write('transit/keys/k/config', { deletion_allowed: true });
    await root.delete('transit/keys/k');
    await root.write('auth/token/revoke', { token: before });
    const afterToken = String(((await root.write('auth/token/create', { policies: ['default'], ttl: '1h' })).body['auth'] as { client_token: string }).client_token);
    await root.write('sys/audit/file2', { type: 'file', options: { file_path: join(dir.path, 'audit2.log') } });
    await root.write('sys/rotate', {});
    const nonce = String((await anon.call('PUT', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 })).body['nonce']);
    const newKeys = (await anon.call('PUT', 'sys/rekey/update', { key: s.keys[0], nonce })).body['keys'] as string[];
    assert.equal(newKeys.length, 1);

    // Read the changed state, so caches (the barrier's, the token store's, policies') hold it.
    assert.deepEqual(((await root.read('secret/data/app')).body['data'] as { data: unknown }).data, { password: 'changed-after' });
    assert.equal((await root.request('GET', 'sys/policies/acl/snap-p')).status, 404);
    assert.equal((await root.request('POST', 'auth/token/lookup', { token: afterToken })).status, 200);
    assert.equal((await new ArcaClient({ addr: s.srv.address, token: afterToken }).request('GET', 'auth/token/lookup-self')).status, 200);

    const restored = await cli(s.srv, root.token!, 'restore', file);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok(restored.out.includes(`Snapshot taken ${doc.created} restored: `), restored.out);
    assert.match(restored.out, /restored: \d+ entries written, \d+ removed, \d+ unchanged/);

    const app = await root.read('secret/data/app');
    assert.deepEqual((app.body['data'] as { data: unknown }).data, { password: CANARY });
    assert.equal((await root.request('GET', 'secret/data/later')).status, 404, 'written after the snapshot: gone');
    assert.equal((await root.request('GET', 'sys/policies/acl/snap-p')).status, 200);
    const plain = (await root.write('transit/decrypt/k', { ciphertext })).body['data'] as { plaintext: string };
    assert.equal(Buffer.from(plain.plaintext, 'base64').toString(), CANARY);
    const reader = new ArcaClient({ addr: s.srv.address, token: before });
    assert.deepEqual(((await reader.read('secret/data/app')).body['data'] as { data: unknown }).data, { password: CANARY }, 'the token from before works, with its policy');
    assert.equal((await root.request('POST', 'auth/token/lookup', { token: afterToken })).status, 403, 'a token made after the snapshot is gone');

    // The audit configuration stayed as it was: a device enabled since the snapshot still logs.
    assert.deepEqual(Object.keys((await root.read('sys/audit')).body['data'] as Record<string, unknown>).sort(), ['file/', 'file2/']);
    assert.match(await readFile(join(dir.path, 'audit2.log'), 'utf8'), /sys\/storage\/snapshot/, 'it logged the restore');

    // The seal stayed this server's: the new key unseals, the old one no longer does.
    await root.write('sys/seal', {});
    assert.equal((await anon.request('PUT', 'sys/unseal', { key: s.keys[0] })).status, 400);
    await anon.call('PUT', 'sys/unseal', { key: newKeys[0] });
    assert.deepEqual(((await root.read('secret/data/app')).body['data'] as { data: unknown }).data, { password: CANARY });
    assert.deepEqual(Object.keys((await root.read('sys/audit')).body['data'] as Record<string, unknown>).sort(), ['file/', 'file2/'], 'as stored, after the unseal re-read it');
    s.keys = newKeys;

    const audit = await readFile(join(dir.path, 'audit.log'), 'utf8');
    assert.ok(audit.includes('sys/storage/snapshot'), 'the save and the restore are audited');
    assert.ok(!audit.includes(bytes.toString('base64').slice(0, 64)), 'the restore request carries the snapshot HMAC\'d, not in the clear');
  });

  it('recovers from a lost store: --offline writes a snapshot into an empty data dir, which then unseals with the same keys', async () => {
    const { root } = s;
    await root.write('secret/data/dr', { data: { v: CANARY } });
    const file = join(dir.path, 'dr.snap');
    assert.equal((await cli(s.srv, root.token!, 'save', file)).code, 0);
    const target = join(dir.path, 'dr');
    const first = await cli(s.srv, root.token!, 'restore', '--offline', '--data-dir', target, file);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.out, /written into the empty sqlite store/);
    const again = await cli(s.srv, root.token!, 'restore', '--offline', '--data-dir', target, file);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /the store is not empty/);
    const busy = await cli(s.srv, root.token!, 'restore', '--offline', '--data-dir', join(dir.path, 'data'), file);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /in use by another arca server/);
    const mixed = await cli(s.srv, root.token!, 'restore', '--data-dir', target, file);
    assert.equal(mixed.code, 1, 'a usage error: --data-dir without --offline');

    const dr = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'sqlite' } }), silentLogger(), target);
    try {
      const anon = new ArcaClient({ addr: dr.address });
      assert.equal(dr.core.state, 'sealed');
      await anon.call('PUT', 'sys/unseal', { key: s.keys[0] });
      const c = new ArcaClient({ addr: dr.address, token: root.token! });
      assert.deepEqual(((await c.read('secret/data/dr')).body['data'] as { data: unknown }).data, { v: CANARY });
    } finally {
      await dr.close();
    }

    // An edited file (audit devices dropped, the plain digest redone) goes in offline, where nothing
    // can check its sealed digest; the first unseal does, and refuses.
    const doc = JSON.parse(gunzipSync(await readFile(file)).toString()) as { digest: string; entries: [string, string][] };
    doc.entries = doc.entries.filter(([k]) => !k.startsWith('sys/audit/'));
    doc.digest = digestOf(doc.entries.map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])).toString('hex');
    const edited = join(dir.path, 'edited.snap');
    await writeFile(edited, gzipSync(JSON.stringify(doc)));
    const target2 = join(dir.path, 'dr2');
    assert.equal((await cli(s.srv, root.token!, 'restore', '--offline', '--data-dir', target2, edited)).code, 0);
    const dr2 = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'sqlite' } }), silentLogger(), target2);
    try {
      const r = await new ArcaClient({ addr: dr2.address }).request('PUT', 'sys/unseal', { key: s.keys[0] });
      assert.equal(r.status, 400);
      assert.match((r.body['error'] as { message: string }).message, /restored offline from a snapshot its server did not write whole/);
      assert.equal(dr2.core.state, 'sealed');
    } finally {
      await dr2.close();
    }
  });

  it('refuses, unless forced, a restore that would drop transit key versions made since the snapshot', async () => {
    const { root } = s;
    await root.write('transit/keys/kek', {});
    const ct1 = ((await root.write('transit/encrypt/kek', { plaintext: Buffer.from('dek-1').toString('base64') })).body['data'] as { ciphertext: string }).ciphertext;
    const file = join(dir.path, 'kek.snap');
    assert.equal((await cli(s.srv, root.token!, 'save', file)).code, 0);
    await root.write('transit/keys/kek/rotate', {});
    await root.write('transit/keys/late', {});
    const ct2 = ((await root.write('transit/encrypt/kek', { plaintext: Buffer.from('dek-2').toString('base64') })).body['data'] as { ciphertext: string }).ciphertext;
    assert.match(ct2, /^vault:v2:/);

    const refused = await cli(s.srv, root.token!, 'restore', file);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /would drop key versions made since it was taken/);
    assert.match(refused.stderr, /transit\/ key "kek": version 2/);
    assert.match(refused.stderr, /transit\/ key "late": every version/);
    const plain = async (ct: string) => Buffer.from(((await root.write('transit/decrypt/kek', { ciphertext: ct })).body['data'] as { plaintext: string }).plaintext, 'base64').toString();
    assert.equal(await plain(ct2), 'dek-2', 'nothing was restored: version 2 still decrypts');

    const forced = await cli(s.srv, root.token!, 'restore', '--force', file);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /warning: dropped transit\/ key "kek": version 2/);
    assert.equal(await plain(ct1), 'dek-1');
    assert.equal((await root.request('POST', 'transit/decrypt/kek', { ciphertext: ct2 })).status, 400, 'as warned: version 2 is gone');
    assert.equal((await root.request('GET', 'transit/keys/late')).status, 404);
  });

  it('refuses a snapshot of another server, anything not a snapshot and a caller without sudo, changing nothing', async () => {
    const { root } = s;
    const other = await startServer(join(dir.path, 'other'));
    let foreign: Buffer;
    try {
      foreign = (await other.root.request('GET', 'sys/storage/snapshot')).bytes!;
    } finally {
      await other.srv.close();
    }
    await root.write('secret/data/marker', { data: { v: '1' } });
    const mine = (await root.request('GET', 'sys/storage/snapshot')).bytes!;
    // Written after `mine`: any of the refused restores below, had it applied, would remove it.
    await root.write('secret/data/after-mine', { data: { v: '2' } });
    const restore = (snapshot: string, c = root) => c.request('PUT', 'sys/storage/snapshot', { snapshot });
    const cases: [string, RegExp][] = [
      [foreign.toString('base64'), /another Arca initialization/],
      [Buffer.from('secret-looking text').toString('base64'), /not an Arca snapshot \(not gzip data/],
      [mine.subarray(0, mine.length - 10).toString('base64'), /not an Arca snapshot \(not gzip data, or truncated/],
      ['%%%not-base64%%%', /not an Arca snapshot \(the snapshot field is not base64\)/],
    ];
    for (const [body, message] of cases) {
      const r = await restore(body);
      assert.equal(r.status, 400, String(message));
      const err = r.body['error'] as { code: string; message: string };
      assert.equal(err.code, 'ERR_INVALID_REQUEST');
      assert.match(err.message, message);
      assert.ok(!JSON.stringify(r.body).includes('secret-looking'), 'the refusal quotes nothing sent');
    }
    assert.equal((await root.request('PUT', 'sys/storage/snapshot', {})).status, 400);
    // A snapshot whose keyring is not this server's (altered): refused, not restored into garbage.
    const doc = JSON.parse(gunzipSync(mine).toString()) as { digest: string; entries: [string, string][] };
    const foreignDoc = JSON.parse(gunzipSync(foreign).toString()) as { entries: [string, string][] };
    doc.entries.find(([k]) => k === 'core/keyring')![1] = foreignDoc.entries.find(([k]) => k === 'core/keyring')![1];
    doc.digest = digestOf(doc.entries.map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])).toString('hex');
    assert.match(((await restore(gzipSync(JSON.stringify(doc)).toString('base64'))).body['error'] as { message: string }).message, /barrier keyring is not this server's/);

    await root.write('sys/policies/acl/no-sudo', { policy: 'path "sys/storage/snapshot" { capabilities = ["read", "update"] }' });
    const t = String(((await root.write('auth/token/create', { policies: ['no-sudo'] })).body['auth'] as { client_token: string }).client_token);
    const plain = new ArcaClient({ addr: s.srv.address, token: t });
    assert.equal((await plain.request('GET', 'sys/storage/snapshot')).status, 403);
    assert.equal((await restore(mine.toString('base64'), plain)).status, 403);
    assert.deepEqual(((await root.read('secret/data/after-mine')).body['data'] as { data: unknown }).data, { v: '2' }, 'nothing changed');
  });
});
