/**
 * Issue 2: a non-dev server restarts sealed; T of N shares unseal it, T−1 do not; malformed and
 * foreign shares are refused without disturbing progress; nothing secret reaches the data dir.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir, treeText } from '../harness/index.ts';

interface InitBody {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}


describe('Shamir seal, restart and unseal (real server process, SQLite)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let otherDir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let init: InitBody;
  let foreign: InitBody;

  before(async () => {
    dir = await tempDir();
    otherDir = await tempDir();
    // A second, unrelated server gives us shares "from another init".
    const other = await startArca({ args: ['--data-dir', otherDir.path] });
    foreign = (await other.client().write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as unknown as InitBody;
    await other.stop();
    srv = await startArca({ args: ['--data-dir', dir.path] });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
    await otherDir?.remove();
  });

  it('starts uninitialized and initializes with 5 shares, threshold 3', async () => {
    const c = srv.client();
    const st = (await c.read('sys/seal-status')).body;
    assert.equal(st['initialized'], false);
    assert.equal((await c.request('GET', 'sys/health')).status, 501);
    init = (await c.write('sys/init', { secret_shares: 5, secret_threshold: 3 })).body as unknown as InitBody;
    assert.equal(init.keys.length, 5);
    assert.equal(init.keys_base64.length, 5);
    assert.match(init.root_token, /^hvs\./);
    const again = await c.request('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(again.status, 400);
    assert.equal((again.body as { error: { code: string } }).error.code, 'ERR_ALREADY_INITIALIZED');
  });

  it('restarts sealed, and T−1 shares do not unseal', async () => {
    await srv.stop();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    const c = srv.client();
    assert.equal((await c.read('sys/seal-status')).body['sealed'], true);
    assert.equal((await c.request('GET', 'sys/health')).status, 503);
    const r1 = (await c.write('sys/unseal', { key: init.keys[0] })).body;
    assert.equal(r1['progress'], 1);
    const r2 = (await c.write('sys/unseal', { key: init.keys_base64[1] })).body;
    assert.equal(r2['progress'], 2);
    assert.equal(r2['sealed'], true);
    assert.equal((await c.request('GET', 'sys/mounts')).status, 503);
  });

  it('refuses malformed and foreign shares with coded errors and keeps progress', async () => {
    const c = srv.client();
    for (const [key, code] of [
      ['not-a-key', 'ERR_SEAL_SHARE_MALFORMED'],
      ['', 'ERR_SEAL_SHARE_MALFORMED'],
      [init.keys[0]!.slice(0, 40), 'ERR_SEAL_SHARE_MALFORMED'],
      [foreign.keys[0], 'ERR_SEAL_SHARE_UNKNOWN'],
      [`${init.keys[2]!.slice(0, -2)}${init.keys[2]!.endsWith('00') ? '01' : '00'}`, 'ERR_SEAL_SHARE_UNKNOWN'],
    ] as const) {
      const r = await c.request('PUT', 'sys/unseal', { key });
      assert.equal(r.status, 400, `status for ${code}`);
      assert.equal((r.body as { error: { code: string } }).error.code, code);
      assert.doesNotMatch(JSON.stringify(r.body), /at .*\.ts:\d+/, 'no stack trace');
    }
    const st = (await c.read('sys/seal-status')).body;
    assert.equal(st['progress'], 2);
    assert.equal(st['sealed'], true);
  });

  it('ignores a repeated share and unseals with the third distinct one', async () => {
    const c = srv.client();
    assert.equal((await c.write('sys/unseal', { key: init.keys[1] })).body['progress'], 2);
    const done = (await c.write('sys/unseal', { key: init.keys[4] })).body;
    assert.equal(done['sealed'], false);
    assert.equal(done['progress'], 0);
    assert.equal((await c.request('GET', 'sys/health')).status, 200);
  });

  it('resets progress on request', async () => {
    const c = srv.client(init.root_token);
    await c.write('sys/seal', {});
    await c.write('sys/unseal', { key: init.keys[0] });
    const r = (await c.write('sys/unseal', { reset: true })).body;
    assert.equal(r['progress'], 0);
    assert.equal(r['nonce'], '');
    for (const k of init.keys.slice(2)) await c.write('sys/unseal', { key: k });
    assert.equal((await c.read('sys/seal-status')).body['sealed'], false);
  });

  it('writes no marker, key or token in plaintext to the data dir', async () => {
    const c = srv.client(init.root_token);
    const marker = 'MARKER-b6d1f0e2-plaintext';
    const child = (await c.write('auth/token/create', { policies: ['p'], meta: { note: marker }, display_name: 'markertoken' })).body as { auth: { client_token: string } };
    await c.write('sys/mounts/markermount', { type: 'kv', description: marker });
    await c.write('sys/rotate', {});
    await srv.stop();
    const text = await treeText(dir.path);
    assert.ok(text.length > 1000, 'the data dir holds the database');
    for (const needle of [marker, init.root_token, child.auth.client_token, ...init.keys, ...init.keys_base64]) {
      assert.equal(text.includes(needle), false, `plaintext found in data dir: ${needle.slice(0, 12)}…`);
    }
    assert.equal(srv.output().includes(init.root_token), false, 'root token not in server log');
    assert.equal(srv.output().includes(marker), false, 'marker not in server log');
    srv = await startArca({ args: ['--data-dir', dir.path] });
  });

  it('refuses a second server on the same data dir (exit 2, coded error, no stack)', async () => {
    const second = await startArca({ args: ['--data-dir', dir.path], wait: false });
    try {
      // A generous deadline, not a bound: a second server that starts serving never exits.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((r) => {
        timer = setTimeout(r, 60_000, 'still running');
      });
      const code = await Promise.race([second.exited, deadline]);
      clearTimeout(timer);
      assert.equal(code, 2, second.output());
    } finally {
      await second.kill();
    }
    assert.match(second.output(), /ERR_STORAGE_LOCKED/);
    assert.doesNotMatch(second.output(), /\n\s+at /, 'no stack trace');
    // The first server is unharmed.
    assert.equal((await srv.client().read('sys/seal-status')).status, 200);
  });
});
