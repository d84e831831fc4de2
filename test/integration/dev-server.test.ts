/**
 * The README's first command (`npm start` = `./bin/arca server --dev`) answers GET /v1/sys/health,
 * prints the exports a user pastes, stops on SIGTERM to `npm start` and removes its data dir;
 * --print-config shows no secret.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { ARCA_BIN, REPO_ROOT, startArca } from '../harness/arca.ts';
import { freePort, waitFor } from '../harness/index.ts';

/** Whether a process we know the pid of still exists (signal 0 checks without sending). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dev server', () => {
  it('answers health 200 once started', async () => {
    const srv = await startArca({ args: ['--dev', '--dev-root-token', 'dev-only-token'], wait: false });
    try {
      const c = srv.client();
      await waitFor('health 200', async () => ((await c.request('GET', 'sys/health').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 60_000, 100);
      // The banner is printed right after bootstrap, a moment after health turns 200.
      await waitFor('dev banner', async () => (/DEV MODE/.test(srv.output()) ? true : undefined), 30_000, 50);
      const r = await srv.client('dev-only-token').read('sys/mounts');
      assert.ok((r.body['data'] as Record<string, unknown>)['secret/']);
    } finally {
      await srv.stop();
    }
  });

  it('prints export lines for ARCA_ADDR and ARCA_TOKEN that reach the server', async () => {
    const srv = await startArca({ args: ['--dev'] });
    try {
      const out = await waitFor('dev banner', async () => (/export ARCA_TOKEN=/.test(srv.output()) ? srv.output() : undefined), 30_000);
      const exports = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('export '));
      const { stdout } = await promisify(execFile)('bash', ['-c', `${exports.join('\n')}\nprintf '%s\\n' "$ARCA_ADDR" "$ARCA_TOKEN"`]);
      const [addr, token] = stdout.split('\n');
      assert.equal(addr, srv.addr);
      const r = await srv.client(token).read('sys/mounts');
      assert.ok((r.body['data'] as Record<string, unknown>)['secret/']);
    } finally {
      await srv.stop();
    }
  });

  it('stops on SIGTERM to `npm start` and removes its throwaway data dir', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start'], { cwd: REPO_ROOT, env: { ...process.env, ARCA_LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const npmExited = new Promise((r) => npm.once('exit', r));
    let pid = 0;
    try {
      const dir = await waitFor('dev banner', async () => /Data dir:\s+(\S+)/.exec(out)?.[1], 60_000, 100);
      pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
      assert.ok(existsSync(dir) && pid > 0 && pid !== npm.pid);
      npm.kill('SIGTERM');
      await npmExited;
      // The server itself (not only npm) must be gone, and its data dir with it.
      await waitFor('server process gone', async () => (alive(pid) ? undefined : true), 30_000, 100);
      await waitFor('dev data dir removed', async () => (existsSync(dir) ? undefined : true), 30_000, 100);
      const probe = await fetch(`http://127.0.0.1:${port}/v1/sys/health`).then(() => 'answered', () => 'refused');
      assert.equal(probe, 'refused');
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      // On failure, do not leave the orphaned server holding the test's pipes open.
      if (pid > 0 && alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(REPO_ROOT)) process.kill(pid, 'SIGKILL');
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
