/**
 * Classifies pages on worker threads so decryption (CPU) overlaps with reading etcd (I/O and
 * protobuf decoding on the main thread). Values are packed into one transferred buffer per page.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Classified } from './classify.ts';
import type { EtcdKv } from './client.ts';

export type PoolRequest =
  | { type: 'init'; configText: string; prefix: string }
  | { type: 'page'; id: number; keys: string[]; offsets: number[]; data: ArrayBuffer }
  | { type: 'close' };

export type PoolResponse = { type: 'ready' } | { type: 'page'; id: number; results: Classified[] };

/** The worker module runs TypeScript through tsx, like the CLI itself. */
function spawnWorker(): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('./classify-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`, { eval: true });
}

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export class ClassifyPool {
  private nextId = 0;
  private rr = 0;
  private readonly waiting = new Map<number, { resolve: (c: Classified[]) => void; reject: (e: unknown) => void }>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (m: PoolResponse) => {
        if (m.type !== 'page') return;
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        p?.resolve(m.results);
      });
      w.on('error', (err) => {
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      });
    }
  }

  static async start(configText: string, prefix: string, count = defaultWorkerCount()): Promise<ClassifyPool> {
    const workers = Array.from({ length: count }, spawnWorker);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onMsg = (m: PoolResponse) => {
              if (m.type === 'ready') {
                w.off('message', onMsg);
                resolve();
              }
            };
            w.on('message', onMsg);
            w.once('error', reject);
            w.postMessage({ type: 'init', configText, prefix } satisfies PoolRequest);
          }),
      ),
    );
    return new ClassifyPool(workers);
  }

  classifyPage(page: EtcdKv[]): Promise<Classified[]> {
    const offsets = [0];
    let total = 0;
    for (const kv of page) {
      total += kv.value.length;
      offsets.push(total);
    }
    const data = new Uint8Array(total);
    page.forEach((kv, i) => {
      data.set(kv.value, offsets[i]!);
    });
    const id = this.nextId++;
    const w = this.workers[this.rr++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const msg: PoolRequest = { type: 'page', id, keys: page.map((kv) => kv.key.toString()), offsets, data: data.buffer };
      w.postMessage(msg, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
