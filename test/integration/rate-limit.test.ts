/**
 * Issue 3 item 4: failed authentications and bad unseal shares are rate-limited per client
 * (burst of 10, slow refill) and failed authentications are audited. Issue 12 item 3: the limit
 * never refuses a caller presenting a valid token.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir, waitFor } from '../harness/index.ts';

describe('failure rate limits', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('limits bad unseal shares per client without losing progress', async () => {
    srv = await startArca({ args: ['--data-dir', dir.path] });
    const c = srv.client();
    const init = (await c.write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as { keys: string[]; root_token: string };
    await c.write('sys/unseal', { key: init.keys[0] });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await c.request('PUT', 'sys/unseal', { key: 'bogus' })).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
    const limited = await c.request('PUT', 'sys/unseal', { key: init.keys[1] });
    assert.equal(limited.status, 429);
    assert.equal((limited.body as { error: { code: string } }).error.code, 'ERR_RATE_LIMITED');
    assert.equal((await c.read('sys/seal-status')).body['progress'], 1);
    // Refill is 0.5/s: after ~2 s one more attempt is allowed, and it completes the unseal.
    await waitFor('unseal after refill', async () => ((await c.request('PUT', 'sys/unseal', { key: init.keys[1] })).status === 200 ? true : undefined), 10_000, 500);
    assert.equal((await c.read('sys/seal-status')).body['sealed'], false);

    const root = srv.client(init.root_token);
    await root.write('sys/audit/file', { type: 'file', options: { file_path: `${dir.path}/audit.log` } });
    const bad = srv.client('hvs.wrong-token');
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await bad.request('GET', 'secret/data/x')).status);
    assert.deepEqual(codes.slice(0, 10), Array(10).fill(403));
    assert.equal(codes[10], 429);
    // Issue 12 item 3: a valid token from the same address is still served (root included): the
    // token is looked up before any limit applies.
    assert.equal((await root.request('GET', 'sys/mounts')).status, 200);
    // A spray of distinct bad tokens from that address is refused with 429 once its burst is spent,
    // and root from the same address is still served in between and after.
    const spray: number[] = [];
    for (let i = 0; i < 12; i++) {
      spray.push((await srv.client(`hvs.spray-${i}`).request('GET', 'secret/data/x')).status);
      if (i % 4 === 0) assert.equal((await root.request('GET', 'secret/data/x')).status, 404);
    }
    assert.ok(spray.every((s) => s === 403 || s === 429), `spray statuses ${spray}`);
    assert.equal(spray.at(-1), 429);
    assert.equal((await root.request('GET', 'sys/mounts')).status, 200);
    // The file device appends asynchronously (in order, off the request path): wait for the
    // rejection entries to land rather than racing the writer.
    const audit = await waitFor(
      'rate-limited request audited',
      async () => {
        const text = await readFile(`${dir.path}/audit.log`, 'utf8');
        return /ERR_RATE_LIMITED/.test(text) ? text : undefined;
      },
      10_000,
      50,
    );
    assert.match(audit, /ERR_TOKEN_INVALID/);
    assert.match(audit, /ERR_RATE_LIMITED/);
    assert.equal(audit.includes('hvs.wrong-token'), false, 'the bad token itself is not in the audit log');
  });
});
