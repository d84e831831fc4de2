/**
 * The project's own Go tools (tools/kms-load) that the KMS test and benchmark rely on: they build
 * offline, kms-echo serves KMS v2 on a socket and removes it on SIGTERM, kms-load reports what it
 * measured and refuses bad flags (exit 1) or an absent plugin (exit 2) instead of measuring errors.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureKmsLoad, KmsTestClient } from '../../src/kms-plugin/testing.ts';
import { tempDir, waitFor } from '../harness/index.ts';

const execFileP = promisify(execFile);

async function exitOf(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return execFileP(file, args).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

describe('tools/kms-load', { timeout: 300_000 }, () => {
  let tools: { load: string; echo: string };
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    tools = await ensureKmsLoad();
    dir = await tempDir('arca-kms-load-');
  });
  after(() => dir.remove());

  it('kms-echo answers Status and echoes Encrypt/Decrypt; kms-load measures each op without errors', async () => {
    const sock = join(dir.path, 'echo.sock');
    const echo = spawn(tools.echo, ['-sock', sock], { stdio: 'ignore' });
    const exited = new Promise((r) => echo.once('exit', r));
    const c = new KmsTestClient(sock);
    try {
      await waitFor('kms-echo socket', async () => (existsSync(sock) ? true : undefined), 30_000);
      assert.deepEqual(await c.status(), { version: 'v2', healthz: 'ok', key_id: 'kms-echo' });
      const seed = Buffer.from('0123456789abcdef0123456789abcdef');
      const enc = await c.encrypt(seed);
      assert.deepEqual(enc.ciphertext, seed);
      assert.deepEqual(await c.decrypt(enc.ciphertext, enc.key_id), seed);
      for (const op of ['status', 'encrypt', 'decrypt']) {
        const { stdout } = await execFileP(tools.load, ['-sock', sock, '-op', op, '-c', '4', '-d', '300ms', '-warm', '10']);
        const r = JSON.parse(stdout) as Record<string, unknown>;
        assert.deepEqual(Object.keys(r).sort(), ['c', 'errors', 'max_ms', 'n', 'op', 'p50_ms', 'p99_ms', 'rps', 'secs']);
        assert.equal(r['op'], op);
        assert.equal(r['c'], 4);
        assert.equal(r['errors'], 0);
        assert.ok((r['n'] as number) > 0 && (r['rps'] as number) > 0);
        assert.ok((r['p50_ms'] as number) <= (r['p99_ms'] as number) && (r['p99_ms'] as number) <= (r['max_ms'] as number));
      }
      const capped = JSON.parse((await execFileP(tools.load, ['-sock', sock, '-max', '25', '-d', '60s', '-warm', '0'])).stdout) as { n: number };
      assert.equal(capped.n, 25);
    } finally {
      c.close();
      echo.kill('SIGTERM');
      await exited;
    }
    assert.equal(existsSync(sock), false, 'kms-echo removes its socket on SIGTERM');
  });

  it('kms-load exits 1 on bad flags and 2 when no plugin answers', async () => {
    assert.equal((await exitOf(tools.load, ['-op', 'status'])).code, 1);
    assert.equal((await exitOf(tools.load, ['-sock', 'x.sock', '-op', 'fly'])).code, 1);
    const absent = await exitOf(tools.load, ['-sock', join(dir.path, 'absent.sock'), '-d', '100ms']);
    assert.equal(absent.code, 2);
    assert.match(absent.stderr, /first encrypt call/);
  });
});
