/**
 * The README's first command (`npm start` = `./bin/arca server --dev`) answers GET /v1/sys/health
 * with 200 within 10 s, and --print-config shows no secret.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { ARCA_BIN, startArca } from '../harness/arca.ts';
import { waitFor } from '../harness/index.ts';

describe('dev server', () => {
  it('answers health 200 within 10 s of starting', async () => {
    const t0 = Date.now();
    const srv = await startArca({ args: ['--dev', '--dev-root-token', 'dev-only-token'], wait: false });
    try {
      const c = srv.client();
      await waitFor('health 200', async () => ((await c.request('GET', 'sys/health').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 10_000, 100);
      assert.ok(Date.now() - t0 < 10_000);
      // The banner is printed right after bootstrap, a moment after health turns 200.
      await waitFor('dev banner', async () => (/DEV MODE/.test(srv.output()) ? true : undefined), 5000, 50);
      const r = await srv.client('dev-only-token').read('sys/mounts');
      assert.ok((r.body['data'] as Record<string, unknown>)['secret/']);
    } finally {
      await srv.stop();
    }
  });

  it('prints the effective config without secrets', async () => {
    const { stdout } = await promisify(execFile)(ARCA_BIN, ['server', '--dev', '--dev-root-token', 'topsecret-token', '--print-config']);
    const cfg = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(cfg['dev'], true);
    assert.equal(cfg['devRootToken'], '[REDACTED]');
    assert.equal(stdout.includes('topsecret-token'), false);
  });

  it('rejects a bad config naming the field', async () => {
    const err = await promisify(execFile)(ARCA_BIN, ['server', '--listen', 'nonsense']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.ok(err);
    assert.equal(err.code, 2);
    assert.match(err.stderr, /ERR_CONFIG_INVALID/);
    assert.match(err.stderr, /listen/);
  });
});
