import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the HTTP server. Labels never carry paths beyond the mount, nor tokens. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'vault_http_requests_total', help: 'HTTP requests by method, top-level mount and status', labelNames: ['method', 'mount', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'vault_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'mount'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [this.registry] });
  readonly unsealed = new Gauge({ name: 'vault_core_unsealed', help: '1 when the server is unsealed', registers: [this.registry] });
  readonly active = new Gauge({ name: 'vault_core_active', help: '1 when this replica is the active one', registers: [this.registry] });
  /** Label children cached per (method, mount[, status]): labels() lookups are the costly part. */
  readonly #counters = new Map<string, { inc(): void }>();
  readonly #histos = new Map<string, { observe(v: number): void }>();

  record(method: string, mount: string, status: number, seconds: number): void {
    const hk = `${method} ${mount}`;
    let h = this.#histos.get(hk);
    if (!h) {
      h = this.latency.labels(method, mount);
      this.#histos.set(hk, h);
    }
    h.observe(seconds);
    const ck = `${hk} ${status}`;
    let c = this.#counters.get(ck);
    if (!c) {
      c = this.requests.labels(method, mount, String(status));
      this.#counters.set(ck, c);
    }
    c.inc();
  }
}

/** First path segment (the mount family), bounded cardinality. */
export function mountLabel(path: string): string {
  const seg = path.split('/')[0] ?? '';
  return /^[a-z0-9_-]{1,32}$/i.test(seg) ? seg : 'other';
}
