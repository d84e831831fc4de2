/**
 * In-process loops for the layers under a durable KV write, so kv.bench.ts can show where the
 * write time goes (each vs the same fsync loop, measured in the same run and directory):
 *  - storage: SqliteStorage.commit of exactly what a KV write commits (a 200 B version record put,
 *    the metadata swing with its expectation, one trimmed-version delete): "SQLite alone";
 *  - engine: the KV engine's `data/` write over StorageView → Barrier → SqliteStorage, i.e. the whole
 *    server path minus HTTP, authentication, ACL, audit and metrics.
 */
import { join } from 'node:path';
import { Barrier } from '../src/barrier/index.ts';
import { randomKey } from '../src/crypto/index.ts';
import { createKvEngine } from '../src/engines/kv/index.ts';
import type { Engine } from '../src/engines/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { SqliteStorage, StorageView } from '../src/storage/index.ts';

export interface Layers {
  /** One durable commit of the KV write shape on bare SqliteStorage. */
  storageOnce(): Promise<void>;
  /** One KV engine write (barrier + SQLite, synchronous=FULL). */
  engineOnce(): Promise<void>;
  /** Durable commits per second of the KV write shape on bare SqliteStorage, for `ms`. */
  storageRate(ms: number): Promise<number>;
  /** KV engine writes per second (barrier + SQLite, synchronous=FULL), for `ms`. */
  engineRate(ms: number): Promise<number>;
  close(): Promise<void>;
}

export async function openLayers(dir: string, secret: Record<string, string>): Promise<Layers> {
  const raw = SqliteStorage.open(join(dir, 'layers.db'));
  const barrier = new Barrier(raw);
  const root = randomKey();
  await barrier.initialize(root);
  await barrier.unseal(root);
  const engine: Engine = createKvEngine(
    { storage: new StorageView(barrier, 'logical/bench/'), log: silentLogger(), now: Date.now, isActive: () => true },
    { version: '2' },
  );
  const version = Buffer.from(JSON.stringify({ data: secret }));
  const meta = Buffer.alloc(420, 0x7b);
  let current: Uint8Array | undefined;
  let n = 0;
  let req = 0;

  async function rate(ms: number, one: () => Promise<void>): Promise<number> {
    let count = 0;
    const started = performance.now();
    while (performance.now() < started + ms) {
      await one();
      count++;
    }
    return count / ((performance.now() - started) / 1000);
  }

  async function storageOnce(): Promise<void> {
    const next = Buffer.from(meta);
    next.writeUInt32BE(++n, 0);
    const ok = await raw.commit({
      puts: [[`versions/h/${n}`, version], ['metadata/bench-w', next]],
      deletes: [`versions/h/${n - 10}`],
      expect: [['metadata/bench-w', current]],
    });
    if (!ok) throw new Error('storage bench: lost its own compare-and-swap');
    current = next;
  }

  async function engineOnce(): Promise<void> {
    const r = await engine.handle({
      id: `b-${++req}`,
      operation: 'update',
      path: 'data/bench-w',
      mountPoint: 'secret/',
      data: { data: secret },
      auth: undefined,
      clientAddr: '127.0.0.1',
      can: () => true,
    });
    if (!r?.data) throw new Error('engine bench: write returned no data');
  }

  return {
    storageOnce,
    engineOnce,
    storageRate: (ms) => rate(ms, storageOnce),
    engineRate: (ms) => rate(ms, engineOnce),
    async close() {
      barrier.seal();
      await raw.close();
    },
  };
}
