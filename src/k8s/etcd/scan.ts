/**
 * `arca etcd scan`: reads every value under a prefix in pages and classifies it (plaintext, current,
 * stale, undecryptable), with totals by state, provider/key and resource.
 */
import type { Etcd3 } from 'etcd3';
import { type Classified, classify, type ValueState } from './classify.ts';
import type { ClassifyPool } from './classify-pool.ts';
import { pages, prefixRange } from './client.ts';
import { type EncryptionTransformers, parseGroupResource } from './deps.ts';
import { rangesFor } from './resource.ts';

export interface ScanOptions {
  /** kube-apiserver --etcd-prefix with trailing slash (decides how keys map to resources) */
  prefix: string;
  /** read only keys under this narrower prefix (e.g. /registry/secrets/prod/) */
  keyPrefix?: string;
  resources?: string[];
  pageSize?: number;
  /** decrypt concurrency within a page (KMS calls are async) */
  concurrency?: number;
  onProgress?: (done: number) => void;
  /** classify on worker threads (decryption overlaps with reading); pages stay in key order */
  pool?: ClassifyPool;
}

export interface ScanObject {
  key: string;
  state: ValueState;
  provider?: string;
  keyName?: string;
  keyId?: string;
  error?: string;
}

export interface ScanReport {
  total: number;
  byState: Record<ValueState, number>;
  /** provider → key name / kms key_id → count */
  byProvider: Record<string, Record<string, number>>;
  byResource: Record<string, Record<ValueState, number>>;
  objects: ScanObject[];
}

export function emptyReport(): ScanReport {
  return { total: 0, byState: { plaintext: 0, current: 0, stale: 0, undecryptable: 0 }, byProvider: {}, byResource: {}, objects: [] };
}

export function addToReport(r: ScanReport, c: Classified): void {
  r.total++;
  r.byState[c.state]++;
  const provider = c.provider ?? 'unknown';
  const keyLabel = c.keyId !== undefined ? `${c.keyName ?? ''} key_id=${c.keyId}`.trim() : (c.keyName ?? '-');
  const p = r.byProvider[provider] ?? {};
  p[keyLabel] = (p[keyLabel] ?? 0) + 1;
  r.byProvider[provider] = p;
  const res = r.byResource[c.resource] ?? { plaintext: 0, current: 0, stale: 0, undecryptable: 0 };
  res[c.state]++;
  r.byResource[c.resource] = res;
  const o: ScanObject = { key: c.key, state: c.state };
  if (c.provider !== undefined) o.provider = c.provider;
  if (c.keyName !== undefined) o.keyName = c.keyName;
  if (c.keyId !== undefined) o.keyId = c.keyId;
  if (c.error !== undefined) o.error = c.error;
  r.objects.push(o);
}

/** Runs `fn` over items with at most `n` in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

export function keyRanges(prefix: string, resources: string[] | undefined): string[] {
  return rangesFor(resources, prefix) ?? [prefix];
}

export function matchesResources(c: { resource: string }, resources: string[] | undefined): boolean {
  if (!resources?.length) return true;
  const have = parseGroupResource(c.resource);
  return resources.some((r) => {
    const want = parseGroupResource(r);
    if (want.group === '*' && want.resource === '*') return true;
    return want.group === have.group && (want.resource === '*' || want.resource === have.resource);
  });
}

export async function scan(client: Etcd3, t: EncryptionTransformers, o: ScanOptions): Promise<ScanReport> {
  await t.refreshKms().catch(() => undefined);
  const report = emptyReport();
  const add = (cs: Classified[]) => {
    for (const c of cs) if (matchesResources(c, o.resources)) addToReport(report, c);
    o.onProgress?.(report.total);
  };
  const pool = o.pool;
  // With a pool, keep a few pages in flight so workers decrypt while the next pages are read.
  const inFlight: Promise<Classified[]>[] = [];
  for (const p of o.keyPrefix ? [o.keyPrefix] : keyRanges(o.prefix, o.resources)) {
    for await (const page of pages(client, prefixRange(p), o.pageSize ?? 1000, true)) {
      if (pool) {
        const f = pool.classifyPage(page);
        f.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
        inFlight.push(f);
        if (inFlight.length >= 4) add(await inFlight.shift()!);
      } else {
        add(await mapLimit(page, o.concurrency ?? 16, (kv) => classify(kv.key.toString(), kv.value, o.prefix, t)));
      }
    }
  }
  for (const f of inFlight) add(await f);
  return report;
}
