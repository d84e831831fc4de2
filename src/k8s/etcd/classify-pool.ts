/**
 * Classifies pages on worker threads so decryption (CPU) overlaps with reading etcd (I/O and
 * protobuf decoding on the main thread). Values are packed into one transferred buffer per page.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Classified, ValueState } from './classify.ts';
import type { EtcdKv } from './client.ts';

export type PoolRequest =
  | { type: 'init'; configText: string; prefix: string }
  | { type: 'page'; id: number; keys: string[]; offsets: number[]; data: ArrayBuffer }
  | { type: 'close' };

/**
 * Page results in columns (one string table, typed arrays of indices): deserializing 10k small
 * objects on the main thread costs more than decrypting them, this costs almost nothing.
 */
export interface PackedResults {
  strings: string[];
  state: Uint8Array;
  needsRewrite: Uint8Array;
  /** index into strings, -1 = absent */
  resource: Int32Array;
  provider: Int32Array;
  keyName: Int32Array;
  keyId: Int32Array;
  error: Int32Array;
}

export type PoolResponse = { type: 'ready' } | { type: 'page'; id: number; results: PackedResults };

const STATES: readonly ValueState[] = ['plaintext', 'current', 'stale', 'undecryptable'];

export function packResults(cs: Classified[]): PackedResults {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const idx = (s: string | undefined) => {
    if (s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const n = cs.length;
  const r: PackedResults = {
    strings,
    state: new Uint8Array(n),
    needsRewrite: new Uint8Array(n),
    resource: new Int32Array(n),
    provider: new Int32Array(n),
    keyName: new Int32Array(n),
    keyId: new Int32Array(n),
    error: new Int32Array(n),
  };
  cs.forEach((c, i) => {
    r.state[i] = STATES.indexOf(c.state);
    r.needsRewrite[i] = c.needsRewrite ? 1 : 0;
    r.resource[i] = idx(c.resource);
    r.provider[i] = idx(c.provider);
    r.keyName[i] = idx(c.keyName);
    r.keyId[i] = idx(c.keyId);
    r.error[i] = idx(c.error);
  });
  return r;
}

export function unpackResults(keys: string[], r: PackedResults): Classified[] {
  const s = (i: number) => (i < 0 ? undefined : r.strings[i]);
  return keys.map((key, i) => {
    const c: Classified = { key, state: STATES[r.state[i]!]!, resource: s(r.resource[i]!) ?? '', needsRewrite: r.needsRewrite[i] === 1 };
    const provider = s(r.provider[i]!);
    const keyName = s(r.keyName[i]!);
    const keyId = s(r.keyId[i]!);
    const error = s(r.error[i]!);
    if (provider !== undefined) c.provider = provider;
    if (keyName !== undefined) c.keyName = keyName;
    if (keyId !== undefined) c.keyId = keyId;
    if (error !== undefined) c.error = error;
    return c;
  });
}

export function transferList(r: PackedResults): ArrayBuffer[] {
  return [r.state, r.needsRewrite, r.resource, r.provider, r.keyName, r.keyId, r.error].map((a) => a.buffer as ArrayBuffer);
}

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
  private readonly waiting = new Map<number, { keys: string[]; resolve: (c: Classified[]) => void; reject: (e: unknown) => void }>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (m: PoolResponse) => {
        if (m.type !== 'page') return;
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (p) p.resolve(unpackResults(p.keys, m.results));
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
    const keys = page.map((kv) => kv.key.toString());
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { keys, resolve, reject });
      const msg: PoolRequest = { type: 'page', id, keys, offsets, data: data.buffer };
      w.postMessage(msg, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
