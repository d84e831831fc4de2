/**
 * The servers an HTTP benchmark compares, each in its own process, started and stopped by PID:
 * the Arca dev server and a bare node:http server that answers every request with a fixed body.
 * Also `api()`, a plain node:http request for setup calls only (never for figures: see wrk.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../../test/harness/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Served {
  child: ChildProcess;
  port: number;
}

export async function probe(port: number, path = '/'): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
  });
}

/**
 * A bare node:http server in its own process, answering every request with `body` after reading the
 * request; with `fsyncFile`, it first writes 200 B to that file and fsyncs it (the durable-write ceiling).
 * `nodeArgs` go to node (e.g. `--cpu-prof`); SIGTERM exits cleanly so a profile gets written.
 */
export async function startBare(body: string, opts: { fsyncFile?: string; nodeArgs?: string[] } = {}): Promise<Served> {
  const fsyncFile = opts.fsyncFile;
  const port = await freePort();
  const src = `
    const http = require('node:http');
    const fs = require('node:fs');
    const body = Buffer.from(process.env.BENCH_BODY);
    const file = process.env.BENCH_FSYNC_FILE;
    const fd = file ? fs.openSync(file, 'w') : -1;
    const rec = Buffer.alloc(200, 1);
    let n = 0;
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (fd >= 0) {
          fs.writeSync(fd, rec, 0, rec.length, (n++ % 1024) * rec.length);
          fs.fsyncSync(fd);
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length });
        res.end(body);
      });
    }).listen(${port}, '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));`;
  const env = { ...process.env, BENCH_BODY: body, ...(fsyncFile === undefined ? {} : { BENCH_FSYNC_FILE: fsyncFile }) };
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '-e', src], { env, stdio: 'ignore' });
  await waitFor('bare server', async () => ((await probe(port)) ? true : undefined));
  return { child, port };
}

/**
 * The Arca dev server. `nodeArgs` go to node before the entry point (e.g. `--cpu-prof`), which is why
 * this runs node directly with tsx's loader, as bin/arca does.
 */
export async function startArca(opts: { dataDir?: string; config?: string; nodeArgs?: string[] } = {}): Promise<Served & { token: string }> {
  const port = await freePort();
  const token = `bench-${randomBytes(8).toString('hex')}`;
  const args = ['server', '--dev', '--dev-root-token', token, '--listen', `127.0.0.1:${port}`, '--log-level', 'error'];
  if (opts.dataDir) args.push('--data-dir', opts.dataDir);
  if (opts.config) args.push('--config', opts.config);
  const node = [...(opts.nodeArgs ?? []), '--no-deprecation', '--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/main.ts')];
  const child = spawn(process.execPath, [...node, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  await waitFor(
    'arca server',
    async () => {
      if (child.exitCode !== null) throw new Error(`arca server exited: ${stderr.slice(-500)}`);
      return (await probe(port, '/v1/sys/health')) === 200 ? true : undefined;
    },
    60_000,
  );
  return { child, port, token };
}

/**
 * The HTTP adapter alone (lib/adapter-server.ts): the real buildHttpServer over a core that answers
 * every request at once with `response`.
 */
export async function startAdapter(response: unknown): Promise<Served> {
  const port = await freePort();
  const node = ['--no-deprecation', '--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'bench/lib/adapter-server.ts'), String(port)];
  const child = spawn(process.execPath, node, { cwd: ROOT, env: { ...process.env, BENCH_RESPONSE: JSON.stringify(response) }, stdio: 'ignore' });
  await waitFor('http adapter', async () => {
    if (child.exitCode !== null) throw new Error('the adapter server exited');
    return (await probe(port, '/v1/x')) === 200 ? true : undefined;
  }, 60_000);
  return { child, port };
}

/** One request for setup (mounts, keys, sample bodies). */
export async function api(port: number, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers = { 'x-vault-token': token, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
