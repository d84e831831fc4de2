/**
 * `arca etcd rewrite`: re-encrypts every value that is stale (or plaintext where the first provider
 * encrypts) with the first provider. Each write is a transaction comparing the key's mod_revision
 * with the one read, so a concurrent writer (the apiserver) always wins and no update is lost; on
 * conflict the key is re-read and rewritten only if still stale. Paced, resumable, with progress.
 * Writes of one page are grouped into multi-key transactions (one compare per key), which keeps
 * the per-key guarantee while sharing etcd's raft/fsync cost.
 *
 * A run is a RewriteRun: its options, counters, pacing and the page in flight live in that one
 * object, and each step (prepare a value, commit a batch, settle one key, checkpoint a page) is a
 * method of its own. The pure parts are in rewrite-plan.ts.
 */
import type { Etcd3 } from 'etcd3';
import { type Classified, classify } from './classify.ts';
import { type EtcdKv, etcdUnavailable, pages, prefixRange } from './client.ts';
import type { EncryptionTransformers } from './deps.ts';
import { removeState, writeState } from './resume.ts';
import {
  type Clock,
  groupWrites,
  type PendingWrite,
  pacer,
  type RewriteScope,
  rangesOf,
  resumePoint,
  statePrefix,
  systemClock,
} from './rewrite-plan.ts';
import { mapLimit, matchesResources } from './scan.ts';

export interface RewriteOptions extends RewriteScope {
  pageSize?: number;
  concurrency?: number;
  /** max writes per second (0/undefined = unpaced) */
  rate?: number;
  dryRun?: boolean;
  /** resume state file; written after every page, removed when the run completes */
  stateFile?: string;
  resume?: boolean;
  maxRetries?: number;
  /**
   * Up to this many CAS writes share one etcd transaction (every key keeps its own mod_revision
   * compare; if any compare fails nothing is written and each key is retried alone). 1 = one txn
   * per key. Default 32; batches also stay under 1 MiB.
   */
  batchSize?: number;
  onProgress?: (s: RewriteStats) => void;
}

export interface RewriteStats {
  scanned: number;
  rewritten: number;
  /** already current (or plaintext under an identity-first rule) */
  unchanged: number;
  /** a concurrent writer changed the key and left it current: its write won */
  conflicts: number;
  /** deleted between read and write */
  deleted: number;
  undecryptable: number;
  failed: number;
  resumedAfter?: string;
}

/** Like the apiserver, re-check KMS v2 plugins about once a minute: a new key_id means a new seed. */
const KMS_REFRESH_MS = 60_000;

export async function rewrite(client: Etcd3, t: EncryptionTransformers, o: RewriteOptions): Promise<RewriteStats> {
  await t.refreshKms();
  const start = await resumePoint(o, o.stateFile, o.resume);
  const run = new RewriteRun(client, t, o);
  if (start.after !== undefined) run.stats.resumedAfter = start.after;
  const ranges = rangesOf(o);
  for (let ri = start.rangeIndex; ri < ranges.length; ri++) {
    const range = prefixRange(ranges[ri]!, ri === start.rangeIndex ? start.after : undefined);
    for await (const page of pages(client, range, o.pageSize ?? 500)) await run.page(ri, page);
    await run.settle();
  }
  await run.finish();
  return run.stats;
}

/** The writes of one page, in flight, and where its checkpoint will point once they settle. */
interface InFlightPage {
  done: Promise<void>;
  rangeIndex: number;
  lastKey: string;
}

/** One rewrite run: the state every step reads and the counters every step adds to. */
export class RewriteRun {
  readonly stats: RewriteStats = { scanned: 0, rewritten: 0, unchanged: 0, conflicts: 0, deleted: 0, undecryptable: 0, failed: 0 };
  readonly #client: Etcd3;
  readonly #t: EncryptionTransformers;
  readonly #o: RewriteOptions;
  readonly #clock: Clock;
  readonly #pace: () => Promise<void>;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #maxRetries: number;
  #lastKmsCheck: number;
  #inFlight: InFlightPage | undefined;

  constructor(client: Etcd3, t: EncryptionTransformers, o: RewriteOptions, clock: Clock = systemClock) {
    this.#client = client;
    this.#t = t;
    this.#o = o;
    this.#clock = clock;
    this.#pace = pacer(o.rate, clock);
    this.#concurrency = o.concurrency ?? 16;
    this.#batchSize = Math.max(1, o.batchSize ?? 32);
    this.#maxRetries = o.maxRetries ?? 5;
    this.#lastKmsCheck = clock.now();
  }

  /**
   * One page, pipelined one deep: its values are decrypted and re-encrypted while the previous
   * page's transactions are in flight; then those settle (and are checkpointed) and this page's
   * start. A page's checkpoint is written only after all its writes settled.
   */
  async page(rangeIndex: number, page: EtcdKv[]): Promise<void> {
    await this.#refreshKmsIfDue();
    const pending = (await mapLimit(page, this.#concurrency, (kv) => this.prepare(kv))).filter((p): p is PendingWrite => p !== undefined);
    const batches = groupWrites(pending, this.#batchSize);
    await this.settle();
    const done = mapLimit(batches, this.#concurrency, (b) => this.commitBatch(b)).then(() => undefined);
    done.catch(() => undefined); // awaited by settle(); avoid an unhandled rejection meanwhile
    this.#inFlight = { done, rangeIndex, lastKey: page[page.length - 1]!.key.toString() };
  }

  /** Waits for the page in flight, if any, and checkpoints it. */
  async settle(): Promise<void> {
    const f = this.#inFlight;
    if (!f) return;
    this.#inFlight = undefined;
    await f.done;
    await this.checkpoint(f.rangeIndex, f.lastKey);
  }

  /** The run completed: its resume state is no longer needed. */
  async finish(): Promise<void> {
    if (this.#o.stateFile && !this.#o.dryRun) await removeState(this.#o.stateFile);
  }

  /** First pass over a value: classify it; if it needs a rewrite, the CAS write to make. */
  async prepare(kv: EtcdKv): Promise<PendingWrite | undefined> {
    const key = kv.key.toString();
    const c = await classify(key, kv.value, this.#o.prefix, this.#t, true);
    if (!matchesResources(c, this.#o.resources)) return undefined;
    this.stats.scanned++;
    if (!this.#needsWrite(c, 'unchanged')) return undefined;
    if (this.#o.dryRun) {
      this.stats.rewritten++;
      return undefined;
    }
    return { kv, out: await this.#encrypt(c) };
  }

  /** One transaction for the batch; if any key changed since it was read, each key settles alone. */
  async commitBatch(batch: PendingWrite[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) await this.#pace();
    if (batch.length === 1) return this.writeOne(batch[0]!.kv, batch[0]!.out);
    if (await this.#cas(batch)) {
      this.stats.rewritten += batch.length;
      return;
    }
    // Nothing was written. Settle each key on its own.
    for (const p of batch) await this.writeOne(p.kv, p.out);
  }

  /** CAS write of one key; on conflict re-read: a concurrent writer's value wins unless it is stale too. */
  async writeOne(kv: EtcdKv, out: Buffer): Promise<void> {
    let cur = kv;
    let next: Buffer | undefined = out;
    for (let attempt = 1; ; attempt++) {
      if (await this.#cas([{ kv: cur, out: next }])) {
        this.stats.rewritten++;
        return;
      }
      const fresh = await this.#reread(cur.key);
      if (!fresh) {
        this.stats.deleted++;
        return;
      }
      next = await this.#retryValue(fresh, attempt);
      if (!next) return;
      cur = fresh;
    }
  }

  /** After a page's writes settled: progress, and the resume state (every key ≤ lastKey is done). */
  async checkpoint(rangeIndex: number, lastKey: string): Promise<void> {
    this.#o.onProgress?.(this.stats);
    if (!this.#o.stateFile || this.#o.dryRun) return;
    const { resumedAfter: _, ...counts } = this.stats;
    await writeState(this.#o.stateFile, {
      version: 1,
      prefix: statePrefix(this.#o),
      resources: this.#o.resources ?? [],
      rangeIndex,
      lastKey,
      stats: counts,
      updatedAt: new Date(this.#clock.now()).toISOString(),
    });
  }

  /**
   * The value another writer left, reclassified: re-encrypted if still stale (and retries remain),
   * else undefined with the outcome counted (undecryptable, conflict: its write wins, or failed).
   */
  async #retryValue(fresh: EtcdKv, attempt: number): Promise<Buffer | undefined> {
    const c = await classify(fresh.key.toString(), fresh.value, this.#o.prefix, this.#t, true);
    if (!this.#needsWrite(c, 'conflicts')) return undefined;
    if (attempt > this.#maxRetries) {
      this.stats.failed++;
      return undefined;
    }
    const out = await this.#encrypt(c);
    await this.#pace();
    return out;
  }

  /**
   * Whether a classified value must be written again; if not, counts why: undecryptable, or already
   * current (`unchanged` on the first pass; a `conflict` when another writer left it current).
   */
  #needsWrite(c: Classified, current: 'unchanged' | 'conflicts'): boolean {
    if (c.state === 'undecryptable') {
      this.stats.undecryptable++;
      return false;
    }
    if (!c.needsRewrite || !c.result) {
      this.stats[current]++;
      return false;
    }
    return true;
  }

  /** The first provider's encoding of a classified value's plaintext, bound to its etcd key. */
  async #encrypt(c: Classified): Promise<Buffer> {
    const out = await this.#t.forResource(c.resource).transformer.toStorage(c.result!.plaintext, Buffer.from(c.key));
    return Buffer.from(out);
  }

  /** One transaction: every key's mod_revision as read, then all puts; true if it applied. */
  async #cas(writes: readonly PendingWrite[]): Promise<boolean> {
    const [first, ...rest] = writes;
    const txn = this.#client.if(first!.kv.key, 'Mod', '==', first!.kv.modRevision);
    for (const p of rest) txn.and(p.kv.key, 'Mod', '==', p.kv.modRevision);
    txn.then(...writes.map((p) => this.#client.put(p.kv.key).value(p.out)));
    const res = await txn.commit().catch((err: unknown) => {
      throw etcdUnavailable(err);
    });
    return res.succeeded;
  }

  async #reread(key: Buffer): Promise<EtcdKv | undefined> {
    const res = await this.#client
      .getAll()
      .inRange({ start: key, end: Buffer.concat([key, Buffer.of(0)]) })
      .exec()
      .catch((err: unknown) => {
        throw etcdUnavailable(err);
      });
    const kv = res.kvs[0];
    return kv && { key: kv.key, value: kv.value, modRevision: kv.mod_revision };
  }

  async #refreshKmsIfDue(): Promise<void> {
    if (this.#clock.now() - this.#lastKmsCheck <= KMS_REFRESH_MS) return;
    await this.#t.refreshKms();
    this.#lastKmsCheck = this.#clock.now();
  }
}
