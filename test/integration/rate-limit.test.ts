/**
 * Issue 3 item 4: failed authentications and bad unseal shares are rate-limited per client
 * (burst of 10, slow refill) and failed authentications are audited. Issue 12 item 3: the limit
 * never refuses a caller presenting a valid token.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ApiResponse } from '../../src/client/index.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir, waitFor } from '../harness/index.ts';

/** Failed attempts a client gets before the first 429 (src/core/attempt-limits.ts). */
const BURST = 10;
/**
 * Attempts sent before giving up on a 429. Not how fast they go: a bucket refills one attempt per
 * 2 s (unseal) or 5 s (authentication), so the 20 beyond the burst outrun the refill unless each
 * request takes seconds. Without the limit no 429 ever comes.
 */
const MAX_ATTEMPTS = BURST + 20;

/** Sends `attempt` until it is answered 429 (at most MAX_ATTEMPTS times): the statuses before, and the 429. */
async function untilLimited(what: string, attempt: () => Promise<ApiResponse>): Promise<{ before: number[]; limited: ApiResponse }> {
  const before: number[] = [];
  while (before.length < MAX_ATTEMPTS) {
    const r = await attempt();
    if (r.status === 429) return { before, limited: r };
    before.push(r.status);
  }
  assert.fail(`${what}: no 429 in ${MAX_ATTEMPTS} attempts (statuses ${before.join(' ')})`);
}

/** A 429 with the coded error and its message. */
function assertLimited(r: ApiResponse, what: 'unseal' | 'authentication'): void {
  assert.equal(r.status, 429, JSON.stringify(r.body));
  const body = r.body as { errors?: string[]; error?: { code?: string; message?: string } };
  assert.equal(body.error?.code, 'ERR_RATE_LIMITED');
  assert.match(body.error?.message ?? '', new RegExp(`^too many failed ${what} attempts from this client; retry in [1-9]\\d* s$`));
  assert.deepEqual(body.errors, [body.error?.message]);
}

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
    const unseal = (key: string) => c.request('PUT', 'sys/unseal', { key });
    // The first BURST bad shares are all checked (the bucket only gains between them); a 429 must
    // come after them.
    const shares = await untilLimited('bad unseal shares', () => unseal('bogus'));
    assert.ok(shares.before.length >= BURST, `429 after only ${shares.before.length} bad shares`);
    assert.deepEqual(shares.before, Array(shares.before.length).fill(400));
    assertLimited(shares.limited, 'unseal');
    assert.equal((await c.read('sys/seal-status')).body['progress'], 1);
    // A valid share is refused too while the client is limited, and costs no progress. It is sent
    // when the bucket is at its lowest, right after a bad share answered 400 just after a 429: the
    // 429 found less than one attempt, the 400 spent one, so the bucket holds only what refilled
    // since that 429, and the valid share finds less than one attempt unless those two requests
    // took 2 s between them (the refill is 0.5/s).
    let previous = 0;
    const refilled = await waitFor('a bad share checked again right after a 429', async () => {
      const s = (await unseal('bogus')).status;
      const stop = s !== 429 && (s !== 400 || previous === 429);
      previous = s;
      return stop ? s : undefined;
    }, 30_000, 50);
    assert.equal(refilled, 400);
    assertLimited(await unseal(init.keys[1]!), 'unseal');
    assert.equal((await c.read('sys/seal-status')).body['progress'], 1);
    // Refill is 0.5/s: after ~2 s one more attempt is allowed, and it completes the unseal.
    await waitFor('unseal after refill', async () => ((await unseal(init.keys[1]!)).status === 200 ? true : undefined), 30_000, 500);
    assert.equal((await c.read('sys/seal-status')).body['sealed'], false);

    const root = srv.client(init.root_token);
    await root.write('sys/audit/file', { type: 'file', options: { file_path: `${dir.path}/audit.log` } });
    const bad = srv.client('hvs.wrong-token');
    const failures = await untilLimited('a bad token', () => bad.request('GET', 'secret/data/x'));
    assert.ok(failures.before.length >= BURST, `429 after only ${failures.before.length} failures`);
    assert.deepEqual(failures.before, Array(failures.before.length).fill(403));
    assertLimited(failures.limited, 'authentication');
    // Issue 12 item 3: a valid token from the same address is still served (root included): the
    // token is looked up before any limit applies.
    assert.equal((await root.request('GET', 'sys/mounts')).status, 200);
    // A spray of distinct bad tokens from that address (each new to the per-token limit) is refused
    // with 429 too, by the per-address limit, and root from the same address is still served in
    // between and after.
    let i = 0;
    const spray = await untilLimited('a spray of distinct bad tokens', async () => {
      if (i % 4 === 0) assert.equal((await root.request('GET', 'secret/data/x')).status, 404);
      return srv.client(`hvs.spray-${i++}`).request('GET', 'secret/data/x');
    });
    assert.ok(spray.before.every((s) => s === 403), `spray statuses ${spray.before.join(' ')}`);
    assertLimited(spray.limited, 'authentication');
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
