import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** A free TCP port on 127.0.0.1 (the OS picks; there is a small race, acceptable for tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function tempDir(prefix = 'arca-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Stops a child we started, by PID: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export { spawn };

/** Every regular file below `dir`, concatenated as latin1 text: for "no plaintext on disk" checks. */
export async function treeText(dir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let out = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    // A live server renames temp files (spool cursors) under our feet: a vanished file is fine.
    const b = await readFile(join(e.parentPath, e.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (b) out += b.toString('latin1');
  }
  return out;
}

/**
 * One plain-HTTP request to an Arca server (`addr` = http://127.0.0.1:port) sent from a chosen
 * loopback address (127.0.0.n), as a client elsewhere would send it: for token_bound_cidrs checks.
 */
export function requestFrom(
  localAddress: string,
  addr: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: string }> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = opts.token ? { 'x-vault-token': opts.token } : {};
  if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: new URL(addr).port, method, path: `/v1/${path}`, localAddress, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * `attempt` until its answer is not a 429: an HA replica that knows no active replica yet (a lease
 * moving, a step-down settling) answers 429 "retry shortly", as Vault's standbys do. Any other
 * answer, a failure included, is returned at once.
 */
export async function retryWhileNoActive<T extends { status: number }>(what: string, attempt: () => Promise<T>): Promise<T> {
  return waitFor(what, async () => {
    const r = await attempt();
    return r.status === 429 ? undefined : r;
  }, 60_000, 100);
}
