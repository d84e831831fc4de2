/**
 * KV v2 benchmarks (issue 5), each a ratio against a baseline measured in the same run. Every HTTP
 * client is wrk in a separate process (lib/wrk.ts); each figure prints the generator's ceiling.
 *  - kv.read.c1 / kv.read.c16: `GET /v1/secret/data/bench` of a 200-byte secret, `wrk -t1 -c1|-c16`,
 *    Arca dev server vs a bare node:http server (child process) returning the same response body.
 *    Goals: ratio ≥ 0.5 and p99 ≤ 2 × bare p99 + 1 ms.
 *  - kv.read.http-adapter.c16: the same read against the HTTP adapter alone (lib/adapter-server.ts:
 *    the real buildHttpServer over a core that answers at once) vs the same bare server. Not a goal:
 *    the ceiling the HTTP layer puts on kv.read.
 *  - kv.write.durable.c1: `POST /v1/secret/data/bench-w` (200 B) from `wrk -t1 -c1`, against
 *    the server's SQLite storage (synchronous=FULL) in a data dir on disk, vs the disk's fsync rate
 *    (write 200 B + fsync in a loop, in the same directory). Goal ≥ 0.5.
 *  - kv.write.ceiling.c1: the same write client against a bare node:http server (child process) that
 *    does one 200 B write + fsync per request before answering, vs the same fsync loop. Not a goal: it is
 *    the best any server that acknowledges after a durable write can score on this machine.
 *  - kv.write.storage.c1 and kv.write.engine.c1: the layers under that write, in-process, vs the same
 *    fsync loop (see kv-layers.ts): "SQLite alone" (one commit of the KV write shape) and the KV engine
 *    over barrier + SQLite without HTTP/auth/ACL/audit. Not goals; they show where the time goes.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild, tempDir } from '../test/harness/index.ts';
import { openLayers } from './kv-layers.ts';
import { compareHttp } from './lib/http-compare.ts';
import { comparePairs } from './lib/report.ts';
import { api, type Served, startAdapter, startArca, startBare } from './lib/servers.ts';
import { type WrkRequest, wrk } from './lib/wrk.ts';

const WRITE_SECONDS = 2;
const DURATION_MS = WRITE_SECONDS * 1000;
/** Write figures are noisier (disk shared with other processes): more pairs for the median. */
const WRITE_ROUNDS = 5;
const LAYER_MS = 1500;
/** The in-process layer figures are context, not goals: fewer pairs keep the bench under 2 minutes. */
const LAYER_ROUNDS = 3;
/** Key and value chosen so the JSON of `data` is 200 bytes. */
const SECRET = { password: 'x'.repeat(200 - '{"password":""}'.length) };

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
  const arca = await startArca({ dataDir: dir.path });
  let bare: Served | undefined;
  try {
    const h = { 'X-Vault-Token': arca.token };
    // Dev servers mount secret/ as KV v2; mounting again is a harmless 400.
    await api(arca.port, arca.token, 'POST', '/v1/sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    const put = await api(arca.port, arca.token, 'POST', '/v1/secret/data/bench', { data: SECRET });
    if (put.status !== 200) throw new Error(`cannot write the bench secret: ${put.status} ${put.body.slice(0, 300)}`);

    const read: WrkRequest = { port: arca.port, method: 'GET', path: '/v1/secret/data/bench', headers: h };
    const sample = await api(arca.port, arca.token, 'GET', read.path);
    if (sample.status !== 200) throw new Error(`read failed: ${sample.status} ${sample.body.slice(0, 300)}`);
    bare = await startBare(sample.body);
    for (const c of [1, 16]) {
      await compareHttp({
        name: `kv.read.c${c}`,
        arca: read,
        bare: { ...read, port: bare.port },
        connections: c,
        arcaPid: arca.child.pid!,
        barePid: bare.child.pid!,
        goal: 0.5,
        extra: { secretBytes: 200 },
        check: (a, b) => {
          const p99GoalMs = r3(2 * b.p99Ms + 1);
          return { p99GoalMs, p99Ok: a.p99Ms <= p99GoalMs };
        },
      });
    }

    // The HTTP adapter's own ceiling: the same read against buildHttpServer over a core that answers
    // at once (same data, same envelope), vs the same bare server. Not a goal: it bounds kv.read.
    const adapter = await startAdapter({ status: 200, data: (JSON.parse(sample.body) as { data: unknown }).data, mountType: 'kv' });
    try {
      await compareHttp({
        name: 'kv.read.http-adapter.c16',
        arca: { ...read, port: adapter.port },
        bare: { ...read, port: bare.port },
        connections: 16,
        arcaPid: adapter.child.pid!,
        barePid: bare.child.pid!,
        extra: { layer: 'src/http buildHttpServer over a core that answers at once: the HTTP layer alone' },
      });
    } finally {
      await stopChild(adapter.child);
    }

    const write: WrkRequest = { port: arca.port, method: 'POST', path: '/v1/secret/data/bench-w', headers: h, body: JSON.stringify({ data: SECRET }) };
    await wrk(write, 1, 1); // warm-up
    await comparePairs({
      name: 'kv.write.durable.c1',
      unit: 'writes/s',
      baseline: 'fsync-rate',
      goal: 0.5,
      rounds: WRITE_ROUNDS,
      pair: async () => {
        const baselineValue = fsyncRate(dir.path);
        const w = await wrk(write, 1, WRITE_SECONDS);
        return { value: w.rps, baselineValue, extra: { generator: 'wrk -t1 -c1', secretBytes: 200, storage: 'sqlite', p99Ms: w.p99Ms } };
      },
    });

    const put200 = await api(arca.port, arca.token, 'POST', write.path, { data: SECRET });
    if (put200.status !== 200) throw new Error(`write failed: ${put200.status} ${put200.body.slice(0, 300)}`);
    const ceiling = await startBare(put200.body, { fsyncFile: join(dir.path, 'ceiling-fsync') });
    try {
      const ceilingWrite: WrkRequest = { ...write, port: ceiling.port };
      await wrk(ceilingWrite, 1, 1); // warm-up
      await comparePairs({
        name: 'kv.write.ceiling.c1',
        unit: 'writes/s',
        baseline: 'fsync-rate',
        rounds: WRITE_ROUNDS,
        pair: async () => {
          const baselineValue = fsyncRate(dir.path);
          const w = await wrk(ceilingWrite, 1, WRITE_SECONDS);
          return { value: w.rps, baselineValue, extra: { layer: 'bare node:http + one 200 B write+fsync per request, same client', generator: 'wrk -t1 -c1', p99Ms: w.p99Ms } };
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
        rounds: LAYER_ROUNDS,
        pair: async () => {
          const baselineValue = fsyncRate(dir.path, LAYER_MS);
          return { value: await layers.storageRate(LAYER_MS), baselineValue, extra: { layer: 'SqliteStorage.commit (version put + metadata put with expectation + trimmed delete)' } };
        },
      });
      await comparePairs({
        name: 'kv.write.engine.c1',
        unit: 'writes/s',
        baseline: 'fsync-rate',
        rounds: LAYER_ROUNDS,
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
