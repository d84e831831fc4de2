import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { auditMetricsRegistry } from '../audit/index.ts';
import type { Core, SweepStats } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';

/** Upper bounds (seconds) of the latency histogram's buckets. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** One (method, mount) pair's counts since the process started. */
interface Series {
  method: string;
  mount: string;
  /** Responses by status code. */
  statuses: Map<number, number>;
  /** Observations per bucket (not cumulative); observations above the last bound are only in `count`. */
  buckets: number[];
  sum: number;
  count: number;
}

/** prom-client's internal shape of one histogram label set (what `collect` hands it; pinned by metrics.test.ts). */
interface HistogramEntry {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * Prometheus metrics of the HTTP server. Labels never carry paths beyond the mount, nor tokens.
 * Requests are counted in plain maps and arrays (a few map lookups per request); prom-client sees the
 * counts only when a scrape asks (its `collect` callbacks), so its label hashing stays off the request path.
 */
export class HttpMetrics {
  readonly #series = new Map<string, Map<string, Series>>();
  readonly #own = new Registry();
  readonly requests = new Counter({
    name: 'vault_http_requests_total',
    help: 'HTTP requests by method, mount and status',
    labelNames: ['method', 'mount', 'status'],
    registers: [this.#own],
    collect: () => this.#collectRequests(),
  });
  readonly latency = new Histogram({
    name: 'vault_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'mount'],
    buckets: BUCKETS,
    registers: [this.#own],
    collect: () => this.#collectLatency(),
  });
  readonly unsealed = new Gauge({ name: 'vault_core_unsealed', help: '1 when the server is unsealed', registers: [this.#own] });
  readonly active = new Gauge({ name: 'vault_core_active', help: '1 when this replica is the active one', registers: [this.#own] });
  /** The expiry sweep (core/expiry-sweep.ts), read at scrape time by `sweep()`. */
  readonly sweepRuns = new Counter({ name: 'arca_expiry_sweep_runs_total', help: 'Expiry sweeps run by this process, by result', labelNames: ['result'], registers: [this.#own] });
  readonly sweepRevoked = new Counter({ name: 'arca_expiry_sweep_revoked_tokens_total', help: 'Expired (or otherwise dead) tokens the expiry sweep revoked', registers: [this.#own] });
  readonly sweepDeleted = new Counter({ name: 'arca_expiry_sweep_deleted_wrapping_total', help: 'Expired wrapping tokens and control-group requests the expiry sweep deleted', registers: [this.#own] });
  readonly storedTokens = new Gauge({ name: 'arca_tokens_stored', help: 'Tokens in storage at the last expiry sweep (-1 before the first)', registers: [this.#own] });
  readonly sweepLastSuccess = new Gauge({ name: 'arca_expiry_sweep_last_success_timestamp_seconds', help: 'When the last successful expiry sweep ended (0: none yet)', registers: [this.#own] });
  /** What `sys/metrics` serves: the HTTP metrics and the audit broker's health counters. */
  readonly registry = Registry.merge([this.#own, auditMetricsRegistry]);

  record(method: string, mount: string, status: number, seconds: number): void {
    let byMount = this.#series.get(method);
    if (!byMount) {
      byMount = new Map();
      this.#series.set(method, byMount);
    }
    let s = byMount.get(mount);
    if (!s) {
      s = { method, mount, statuses: new Map(), buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      byMount.set(mount, s);
    }
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    s.sum += seconds;
    s.count++;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]!) {
        s.buckets[i]!++;
        break;
      }
    }
  }

  /** Copies the core's sweep statistics into the sweep metrics (at scrape time). */
  sweep(st: Readonly<SweepStats>): void {
    this.sweepRuns.reset();
    this.sweepRuns.inc({ result: 'success' }, st.runs - st.failures);
    this.sweepRuns.inc({ result: 'failure' }, st.failures);
    this.sweepRevoked.reset();
    this.sweepRevoked.inc(st.revokedTokens);
    this.sweepDeleted.reset();
    this.sweepDeleted.inc(st.deletedGovernance);
    this.storedTokens.set(st.storedTokens);
    this.sweepLastSuccess.set(st.lastSuccessAt / 1000);
  }

  *#all(): Generator<Series> {
    for (const byMount of this.#series.values()) yield* byMount.values();
  }

  #collectRequests(): void {
    this.requests.reset();
    for (const s of this.#all()) {
      for (const [status, n] of s.statuses) this.requests.inc({ method: s.method, mount: s.mount, status: String(status) }, n);
    }
  }

  #collectLatency(): void {
    // prom-client has no API to set a histogram's counts; its label-set table is rebuilt from ours.
    const table: Record<string, HistogramEntry> = {};
    let i = 0;
    for (const s of this.#all()) {
      const bucketValues: Record<number, number> = {};
      BUCKETS.forEach((b, j) => {
        bucketValues[b] = s.buckets[j]!;
      });
      table[String(i++)] = { labels: { method: s.method, mount: s.mount }, bucketValues, sum: s.sum, count: s.count };
    }
    (this.latency as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap = table;
  }
}

/** Label of every request that no mount serves (unknown paths, non-API URLs, a sealed server's). */
export const UNKNOWN_MOUNT = 'unknown';

/**
 * The `mount` label of a request URL: the mount serving it (`secret`, `auth/token`, `sys`), else
 * UNKNOWN_MOUNT — so the label's values are bounded by the mount table, whatever clients send.
 */
export function mountLabel(url: string, core: Pick<Core, 'mountOf'>): string {
  if (!url.startsWith('/v1/')) return UNKNOWN_MOUNT;
  const q = url.indexOf('?');
  const path = q < 0 ? url.slice(4) : url.slice(4, q);
  const m = core.mountOf(path);
  if (m) return m.slice(0, -1);
  // Raw sys endpoints (seal-status, unseal, health) answer while sealed, when no mount table is loaded.
  return path.startsWith('sys/') ? 'sys' : UNKNOWN_MOUNT;
}

/** `sys/metrics` (Vault's raw JSON, or Prometheus text with `format=prometheus`), served through the core. */
export function registerMetricsRoute(core: Core, metrics: HttpMetrics, ha: () => { active: boolean }): void {
  core.routes.set('sys/metrics', {
    local: true,
    handlers: {
      read: async (req) => {
        const format = req.data['format'];
        if (format !== undefined && format !== 'prometheus') throw new ArcaError('ERR_INVALID_REQUEST', 'unknown metric response format: use format=prometheus, or none for JSON');
        metrics.unsealed.set(core.state === 'unsealed' ? 1 : 0);
        metrics.active.set(ha().active ? 1 : 0);
        metrics.sweep(core.expirySweep.stats);
        if (format === 'prometheus') return { status: 200, raw: { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: await metrics.registry.metrics() } };
        return { status: 200, raw: { contentType: 'application/json', body: JSON.stringify(await metrics.registry.getMetricsAsJSON()) } };
      },
    },
  });
}
