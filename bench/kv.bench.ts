/**
 * KV v2 benchmarks (issue 5), each a ratio against a baseline measured in the same run:
 *  - kv.read.c10: `GET /v1/secret/data/bench` of a 200-byte secret, 10 concurrent keep-alive clients,
 *    Arca dev server vs a bare node:http server (child process) returning the same response body;
 *    same in-process load loop for both. Goals: ratio ≥ 0.5 and p99 ≤ 2 × bare p99 + 1 ms.
 *  - kv.write.durable.c1: `POST /v1/secret/data/bench-w` (200 B) from one client, back to back, against
 *    the server's SQLite storage (synchronous=FULL) in a data dir on disk, vs the disk's fsync rate
 *    (write 200 B + fsync in a loop, in the same directory). Goal ≥ 0.5.
 *  - kv.write.ceiling.c1: the same write client against a bare node:http server (child process) that
 *    does one 200 B write + fsync per request before answering, vs the same fsync loop. Not a goal: it is
 *    the best any server that acknowledges after a durable write can score on this machine.
 *  - kv.write.storage.c1 and kv.write.engine.c1: the layers under that write, in-process, vs the same
 *    fsync loop (see kv-layers.ts): "SQLite alone" (one commit of the KV write shape) and the KV engine
 *    over barrier + SQLite without HTTP/auth/ACL/audit. Not goals; they show where the time goes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild, tempDir, waitFor } from '../test/harness/index.ts';
import { openLayers } from './kv-layers.ts';
import { comparePairs } from './lib/report.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DURATION_MS = 3000;
const CONCURRENCY = 10;
/** Write figures are noisier (disk shared with other processes): more pairs for the median. */
const WRITE_ROUNDS = 5;
const LAYER_MS = 2000;
/** Key and value chosen so the JSON of `data` is 200 bytes. */
const SECRET = { password: 'x'.repeat(200 - '{"password":""}'.length) };

interface Target {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function once(agent: http.Agent, t: Target): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...t.headers };
    if (t.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(t.body);
    }
    const req = http.request({ host: '127.0.0.1', port: t.port, path: t.path, method: t.method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(t.body);
  });
}

/** `concurrency` keep-alive clients in a closed loop for `ms`: requests per second and p99 latency. */
async function load(t: Target, concurrency: number, ms = DURATION_MS): Promise<{ rps: number; p99Ms: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const lat: number[] = [];
  const end = Date.now() + ms;
  const started = performance.now();
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const r = await once(agent, t);
      lat.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`bench request failed: ${r.status} ${r.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - started) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? 0 };
}

async function probe(port: number, path = '/'): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
  });
}

/**
 * A bare node:http server in its own process, answering every request with `body`; with `fsyncFile`,
 * it first writes 200 B to that file and fsyncs it, like the fsync loop (the durable-write ceiling).
 */
async function startBare(body: string, fsyncFile?: string): Promise<{ child: ChildProcess; port: number }> {
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
    }).listen(${port}, '127.0.0.1');`;
  const env = { ...process.env, BENCH_BODY: body, ...(fsyncFile === undefined ? {} : { BENCH_FSYNC_FILE: fsyncFile }) };
  const child = spawn(process.execPath, ['-e', src], { env, stdio: 'ignore' });
  await waitFor('bare server', async () => ((await probe(port)) ? true : undefined));
  return { child, port };
}

async function startArca(dataDir: string): Promise<{ child: ChildProcess; port: number; token: string }> {
  const port = await freePort();
  const token = `bench-${randomBytes(8).toString('hex')}`;
  const args = ['server', '--dev', '--dev-root-token', token, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'error'];
  const child = spawn(join(ROOT, 'bin', 'arca'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
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

/** Writes 200 B and fsyncs, in a loop, in `dir`: the disk's durable-write rate at one writer. */
function fsyncRate(dir: string, ms = DURATION_MS): number {
  const fd = openSync(join(dir, 'fsync-baseline'), 'w');
  const buf = Buffer.alloc(200, 1);
  let n = 0;
  const started = performance.now();
  const end = started + ms;
  try {
    while (performance.now() < end) {
      writeSync(fd, buf, 0, buf.length, (n % 1024) * buf.length);
      fsyncSync(fd);
      n++;
    }
  } finally {
    closeSync(fd);
  }
  return n / ((performance.now() - started) / 1000);
}

export default async function kvBench(): Promise<void> {
  const dir = await tempDir('arca-kv-bench-');
  const arca = await startArca(dir.path);
  let bare: { child: ChildProcess; port: number } | undefined;
  try {
    const agent = new http.Agent();
    const h = { 'x-vault-token': arca.token };
    // Dev servers mount secret/ as KV v2; mounting again is a harmless 400.
    await once(agent, { port: arca.port, method: 'POST', path: '/v1/sys/mounts/secret', headers: h, body: JSON.stringify({ type: 'kv', options: { version: '2' } }) });
    const put = await once(agent, { port: arca.port, method: 'POST', path: '/v1/secret/data/bench', headers: h, body: JSON.stringify({ data: SECRET }) });
    if (put.status !== 200) throw new Error(`cannot write the bench secret: ${put.status} ${put.body.slice(0, 300)}`);

    const read: Target = { port: arca.port, method: 'GET', path: '/v1/secret/data/bench', headers: h };
    const sample = await once(agent, read);
    if (sample.status !== 200) throw new Error(`read failed: ${sample.status} ${sample.body.slice(0, 300)}`);
    bare = await startBare(sample.body);
    const bareRead: Target = { ...read, port: bare.port };
    await load(bareRead, CONCURRENCY, 1000); // warm-up both
    await load(read, CONCURRENCY, 1000);
    await comparePairs({
      name: 'kv.read.c10',
      unit: 'req/s',
      baseline: 'bare-node-http',
      goal: 0.5,
      rounds: 3,
      pair: async () => {
        const b = await load(bareRead, CONCURRENCY);
        const a = await load(read, CONCURRENCY);
        const p99GoalMs = 2 * b.p99Ms + 1;
        return {
          value: a.rps,
          baselineValue: b.rps,
          extra: { concurrency: CONCURRENCY, secretBytes: 200, p99Ms: r3(a.p99Ms), baselineP99Ms: r3(b.p99Ms), p99GoalMs: r3(p99GoalMs), p99Ok: a.p99Ms <= p99GoalMs },
        };
      },
    });

    const write: Target = { port: arca.port, method: 'POST', path: '/v1/secret/data/bench-w', headers: h, body: JSON.stringify({ data: SECRET }) };
    await load(write, 1, 500); // warm-up
    await comparePairs({
      name: 'kv.write.durable.c1',
      unit: 'writes/s',
      baseline: 'fsync-rate',
      goal: 0.5,
      rounds: WRITE_ROUNDS,
      pair: async () => {
        const baselineValue = fsyncRate(dir.path);
        const { rps, p99Ms } = await load(write, 1);
        return { value: rps, baselineValue, extra: { concurrency: 1, secretBytes: 200, storage: 'sqlite', p99Ms: r3(p99Ms) } };
      },
    });

    const put200 = await once(agent, write);
    if (put200.status !== 200) throw new Error(`write failed: ${put200.status} ${put200.body.slice(0, 300)}`);
    const ceiling = await startBare(put200.body, join(dir.path, 'ceiling-fsync'));
    try {
      const ceilingWrite: Target = { ...write, port: ceiling.port };
      await load(ceilingWrite, 1, 500); // warm-up
      await comparePairs({
        name: 'kv.write.ceiling.c1',
        unit: 'writes/s',
        baseline: 'fsync-rate',
        rounds: WRITE_ROUNDS,
        pair: async () => {
          const baselineValue = fsyncRate(dir.path);
          const { rps, p99Ms } = await load(ceilingWrite, 1);
          return { value: rps, baselineValue, extra: { layer: 'bare node:http + one 200 B write+fsync per request, same client', p99Ms: r3(p99Ms) } };
        },
      });
    } finally {
      await stopChild(ceiling.child);
    }

    const layers = await openLayers(dir.path, SECRET);
    try {
      await layers.storageRate(300); // warm-up
      await layers.engineRate(300);
      await comparePairs({
        name: 'kv.write.storage.c1',
        unit: 'commits/s',
        baseline: 'fsync-rate',
        rounds: WRITE_ROUNDS,
        pair: async () => {
          const baselineValue = fsyncRate(dir.path, LAYER_MS);
          return { value: await layers.storageRate(LAYER_MS), baselineValue, extra: { layer: 'SqliteStorage.commit (version put + metadata put with expectation + trimmed delete)' } };
        },
      });
      await comparePairs({
        name: 'kv.write.engine.c1',
        unit: 'writes/s',
        baseline: 'fsync-rate',
        rounds: WRITE_ROUNDS,
        pair: async () => {
          const baselineValue = fsyncRate(dir.path, LAYER_MS);
          return { value: await layers.engineRate(LAYER_MS), baselineValue, extra: { layer: 'KV engine over StorageView + Barrier + SqliteStorage, no HTTP' } };
        },
      });
    } finally {
      await layers.close();
    }
  } finally {
    if (bare) await stopChild(bare.child);
    await stopChild(arca.child);
    await dir.remove();
  }
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
