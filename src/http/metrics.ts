import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Core } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';

/** Prometheus metrics of the HTTP server. Labels never carry paths beyond the mount, nor tokens. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'vault_http_requests_total', help: 'HTTP requests by method, mount and status', labelNames: ['method', 'mount', 'status'], registers: [this.registry] });
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
        if (format === 'prometheus') return { status: 200, raw: { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: await metrics.registry.metrics() } };
        return { status: 200, raw: { contentType: 'application/json', body: JSON.stringify(await metrics.registry.getMetricsAsJSON()) } };
      },
    },
  });
}
