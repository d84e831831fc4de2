/**
 * `arca etcd rewrite`: re-encrypts every value that is stale (or plaintext where the first provider
 * encrypts) with the first provider. Each write is a transaction comparing the key's mod_revision
 * with the one read, so a concurrent writer (the apiserver) always wins and no update is lost; on
 * conflict the key is re-read and rewritten only if still stale. Paced, resumable, with progress.
 * Writes of one page are grouped into multi-key transactions (one compare per key), which keeps
 * the per-key guarantee while sharing etcd's raft/fsync cost.
 */
import type { Etcd3, IKeyValue, IRangeResponse } from 'etcd3';
import { classify } from './classify.ts';
import { type EtcdKv, etcdUnavailable, pages, prefixRange } from './client.ts';
import { ArcaError, type EncryptionTransformers } from './deps.ts';
import { readState, removeState, writeState } from './resume.ts';
import { keyRanges, mapLimit, matchesResources } from './scan.ts';

export interface RewriteOptions {
  /** kube-apiserver --etcd-prefix with trailing slash (decides how keys map to resources) */
  prefix: string;
  /** rewrite only keys under this narrower prefix (e.g. one namespace) */
  keyPrefix?: string;
  resources?: string[];
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

const BATCH_BYTES = 1024 * 1024;

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

interface Pending {
  kv: EtcdKv;
  out: Buffer;
}

function countsOf(s: RewriteStats): Record<string, number> {
  const { resumedAfter: _, ...counts } = s;
  return counts;
}

function pacer(rate: number | undefined): () => Promise<void> {
  if (!rate || rate <= 0) return async () => {};
  const interval = 1000 / rate;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
}

export async function rewrite(client: Etcd3, t: EncryptionTransformers, o: RewriteOptions): Promise<RewriteStats> {
  await t.refreshKms();
  const stats: RewriteStats = { scanned: 0, rewritten: 0, unchanged: 0, conflicts: 0, deleted: 0, undecryptable: 0, failed: 0 };
  const resources = o.resources ?? [];
  const ranges = o.keyPrefix ? [o.keyPrefix] : keyRanges(o.prefix, o.resources);
  let startRange = 0;
  let after: string | undefined;
  if (o.resume && o.stateFile) {
    const st = await readState(o.stateFile);
    if (st) {
      if (st.prefix !== (o.keyPrefix ?? o.prefix) || st.resources.join(',') !== resources.join(',')) {
        throw new ArcaError(
          'ERR_INVALID_REQUEST',
          `resume state ${o.stateFile} is for prefix ${st.prefix} and resources [${st.resources.join(',')}]; use the same flags or delete it`,
        );
      }
      startRange = st.rangeIndex;
      after = st.lastKey;
      if (after !== undefined) stats.resumedAfter = after;
    }
  }
  const pace = pacer(o.rate);
  const maxRetries = o.maxRetries ?? 5;

  /** CAS write of one key; on conflict re-read: a concurrent writer's value wins unless it is stale too. */
  const one = async (kv: EtcdKv, firstOut: Buffer): Promise<void> => {
    let cur: EtcdKv = kv;
    let out: Buffer | undefined = firstOut;
    for (let attempt = 0; ; attempt++) {
      if (!out) {
        const key = cur.key.toString();
        const c = await classify(key, cur.value, o.prefix, t, true);
        if (c.state === 'undecryptable') {
          stats.undecryptable++;
          return;
        }
        if (!c.needsRewrite || !c.result) {
          stats.conflicts++;
          return;
        }
        if (attempt > maxRetries) {
          stats.failed++;
          return;
        }
        out = Buffer.from(await t.forResource(c.resource).transformer.toStorage(c.result.plaintext, Buffer.from(key)));
        await pace();
      }
      const res = await client
        .if(cur.key, 'Mod', '==', cur.modRevision)
        .then(client.put(cur.key).value(out))
        .commit()
        .catch((err: unknown) => {
          throw etcdUnavailable(err);
        });
      if (res.succeeded) {
        stats.rewritten++;
        return;
      }
      const again: IRangeResponse = await client
        .getAll()
        .inRange({ start: cur.key, end: Buffer.concat([cur.key, Buffer.of(0)]) })
        .exec()
        .catch((err: unknown) => {
          throw etcdUnavailable(err);
        });
      const kv2: IKeyValue | undefined = again.kvs[0];
      if (!kv2) {
        stats.deleted++;
        return;
      }
      cur = { key: kv2.key, value: kv2.value, modRevision: kv2.mod_revision };
      out = undefined;
    }
  };

  const batchSize = Math.max(1, o.batchSize ?? 32);
  let lastKmsCheck = Date.now();
  const concurrency = o.concurrency ?? 16;

  /** First pass over a page: classify, encrypt what needs it. Returns the CAS writes to make. */
  const prepare = async (kv: EtcdKv): Promise<Pending | undefined> => {
    const key = kv.key.toString();
    const c = await classify(key, kv.value, o.prefix, t, true);
    if (!matchesResources(c, o.resources)) return undefined;
    stats.scanned++;
    if (c.state === 'undecryptable') {
      stats.undecryptable++;
      return undefined;
    }
    if (!c.needsRewrite || !c.result) {
      stats.unchanged++;
      return undefined;
    }
    if (o.dryRun) {
      stats.rewritten++;
      return undefined;
    }
    const out = await t.forResource(c.resource).transformer.toStorage(c.result.plaintext, Buffer.from(key));
    return { kv, out: Buffer.from(out) };
  };

  const commitBatch = async (batch: Pending[]): Promise<void> => {
    for (let i = 0; i < batch.length; i++) await pace();
    if (batch.length === 1) {
      await one(batch[0]!.kv, batch[0]!.out);
      return;
    }
    const first = batch[0]!;
    const txn = client.if(first.kv.key, 'Mod', '==', first.kv.modRevision);
    for (const p of batch.slice(1)) txn.and(p.kv.key, 'Mod', '==', p.kv.modRevision);
    txn.then(...batch.map((p) => client.put(p.kv.key).value(p.out)));
    const res = await txn.commit().catch((err: unknown) => {
      throw etcdUnavailable(err);
    });
    if (res.succeeded) {
      stats.rewritten += batch.length;
      return;
    }
    // Some key changed since it was read; nothing was written. Settle each key on its own.
    for (const p of batch) await one(p.kv, p.out);
  };

  const checkpoint = async (ri: number, lastKey: string) => {
    o.onProgress?.(stats);
    if (!o.stateFile || o.dryRun) return;
    await writeState(o.stateFile, {
      version: 1,
      prefix: o.keyPrefix ?? o.prefix,
      resources,
      rangeIndex: ri,
      lastKey,
      stats: countsOf(stats),
      updatedAt: new Date().toISOString(),
    });
  };

  // One page deep pipeline: page i+1 is decrypted and re-encrypted while page i's transactions
  // are in flight. The checkpoint of a page is written only after all its writes settled.
  let inFlight: { done: Promise<void>; ri: number; lastKey: string } | undefined;
  const settle = async () => {
    if (!inFlight) return;
    const f = inFlight;
    inFlight = undefined;
    await f.done;
    await checkpoint(f.ri, f.lastKey);
  };
  for (let ri = startRange; ri < ranges.length; ri++) {
    const range = prefixRange(ranges[ri]!, ri === startRange ? after : undefined);
    for await (const page of pages(client, range, o.pageSize ?? 500)) {
      // Like the apiserver, re-check KMS v2 plugins about once a minute: a new key_id means a new seed.
      if (Date.now() - lastKmsCheck > 60_000) {
        await t.refreshKms();
        lastKmsCheck = Date.now();
      }
      const pending = (await mapLimit(page, concurrency, prepare)).filter((p): p is Pending => p !== undefined);
      const batches: Pending[][] = [];
      let cur: Pending[] = [];
      let bytes = 0;
      for (const p of pending) {
        if (cur.length && (cur.length >= batchSize || bytes + p.out.length + p.kv.key.length > BATCH_BYTES)) {
          batches.push(cur);
          cur = [];
          bytes = 0;
        }
        cur.push(p);
        bytes += p.out.length + p.kv.key.length;
      }
      if (cur.length) batches.push(cur);
      await settle();
      const done = mapLimit(batches, concurrency, commitBatch).then(() => undefined);
      done.catch(() => undefined); // awaited by settle(); avoid an unhandled rejection meanwhile
      inFlight = { done, ri, lastKey: page[page.length - 1]!.key.toString() };
    }
    await settle();
  }
  if (o.stateFile && !o.dryRun) await removeState(o.stateFile);
  return stats;
}
