/**
 * The pure parts of `arca etcd rewrite`, each testable without etcd: which key ranges a run covers
 * and where a resumed run starts, how one page's writes are grouped into transactions, and how
 * writes are paced.
 */
import type { EtcdKv } from './client.ts';
import { ArcaError } from './deps.ts';
import { readState } from './resume.ts';
import { keyRanges } from './scan.ts';

/** What selects the keys of a run (and must match between a run and its resume). */
export interface RewriteScope {
  /** kube-apiserver --etcd-prefix with trailing slash (decides how keys map to resources) */
  prefix: string;
  /** only keys under this narrower prefix (e.g. one namespace) */
  keyPrefix?: string;
  resources?: string[];
}

/** One CAS write: the value as read (key, mod_revision) and what replaces it. */
export interface PendingWrite {
  kv: EtcdKv;
  out: Buffer;
}

/** Where a run starts: a range index, and within that range strictly after `after`. */
export interface StartPoint {
  rangeIndex: number;
  after?: string;
}

/** etcd refuses requests over 1.5 MiB by default; a batch stays under 1 MiB of keys and values. */
export const BATCH_BYTES = 1024 * 1024;

export function rangesOf(s: RewriteScope): string[] {
  return s.keyPrefix ? [s.keyPrefix] : keyRanges(s.prefix, s.resources);
}

/** The prefix recorded in (and checked against) the resume state. */
export function statePrefix(s: RewriteScope): string {
  return s.keyPrefix ?? s.prefix;
}

/**
 * With `resume` and a state file that exists: the point after the last checkpointed page, if the
 * state was written for the same scope (else an error saying how to fix it). Otherwise the start.
 */
export async function resumePoint(s: RewriteScope, stateFile: string | undefined, resume: boolean | undefined): Promise<StartPoint> {
  if (!resume || !stateFile) return { rangeIndex: 0 };
  const st = await readState(stateFile);
  if (!st) return { rangeIndex: 0 };
  const resources = s.resources ?? [];
  if (st.prefix !== statePrefix(s) || st.resources.join(',') !== resources.join(',')) {
    throw new ArcaError(
      'ERR_INVALID_REQUEST',
      `resume state ${stateFile} is for prefix ${st.prefix} and resources [${st.resources.join(',')}]; use the same flags or delete it`,
    );
  }
  const p: StartPoint = { rangeIndex: st.rangeIndex };
  if (st.lastKey !== undefined) p.after = st.lastKey;
  return p;
}

/** Groups a page's writes, in order, into transactions of at most `maxCount` writes and `maxBytes`. */
export function groupWrites(pending: readonly PendingWrite[], maxCount: number, maxBytes = BATCH_BYTES): PendingWrite[][] {
  const batches: PendingWrite[][] = [];
  let cur: PendingWrite[] = [];
  let bytes = 0;
  for (const p of pending) {
    const size = p.out.length + p.kv.key.length;
    if (cur.length && (cur.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += size;
  }
  if (cur.length) batches.push(cur);
  return batches;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/**
 * At most `rate` writes per second (none when 0/undefined): each call takes the next slot, 1/rate s
 * after the previous one, and waits for it. A caller that falls behind does not earn a burst.
 */
export function pacer(rate: number | undefined, clock: Clock = systemClock): () => Promise<void> {
  if (!rate || rate <= 0) return async () => {};
  const interval = 1000 / rate;
  let next = clock.now();
  return async () => {
    const now = clock.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at > now) await clock.sleep(at - now);
  };
}
