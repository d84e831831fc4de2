/**
 * Prometheus metrics of the plugin (prom-client, own registry), served on --metrics-listen by a bare
 * node:http server: latency per RPC, errors by RPC and code, the current key_id, cache hits and
 * size, and the health of the key source.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type MetricsServer, serveMetrics } from '../metrics/index.ts';
import type { PluginObserver } from './service.ts';

export class PluginMetrics implements PluginObserver {
  readonly registry = new Registry();
  readonly #latency = new Histogram({
    name: 'arca_kms_plugin_rpc_duration_seconds',
    help: 'KMS plugin RPC latency, by RPC (e.g. v2.Decrypt)',
    labelNames: ['rpc'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 3],
    registers: [this.registry],
  });
  /** Label-bound children: observing through them skips a label lookup per call. */
  readonly #byRpc = new Map<string, { observe(v: number): void }>();
  readonly #errors = new Counter({
    name: 'arca_kms_plugin_rpc_errors_total',
    help: 'KMS plugin RPC failures, by RPC and Arca error code',
    labelNames: ['rpc', 'code'],
    registers: [this.registry],
  });
  readonly #keyId = new Gauge({
    name: 'arca_kms_plugin_key_id_info',
    help: 'The key_id the plugin currently encrypts under (value 1)',
    labelNames: ['key_id'],
    registers: [this.registry],
  });
  readonly #cacheHits = new Counter({
    name: 'arca_kms_plugin_cache_lookups_total',
    help: 'Cache lookups of decrypted seeds and unwrapped local KEKs, by cache and result',
    labelNames: ['cache', 'result'],
    registers: [this.registry],
  });
  readonly #cacheSize = new Gauge({
    name: 'arca_kms_plugin_cache_entries',
    help: 'Entries in the decrypted-seed and local-KEK caches',
    labelNames: ['cache'],
    registers: [this.registry],
  });
  readonly #healthy = new Gauge({
    name: 'arca_kms_plugin_remote_healthy',
    help: '1 when the last round trip through the key source (Arca server or HSM) succeeded',
    registers: [this.registry],
  });

  /** Starts a latency timer; call the result with the error code on failure, nothing on success. */
  observe(rpc: string): (code?: string) => void {
    let h = this.#byRpc.get(rpc);
    if (!h) {
      h = this.#latency.labels({ rpc });
      this.#byRpc.set(rpc, h);
    }
    const child = h;
    const t0 = performance.now();
    return (code) => {
      child.observe((performance.now() - t0) / 1000);
      if (code) this.#errors.inc({ rpc, code });
    };
  }

  keyId(keyId: string): void {
    this.#keyId.reset();
    this.#keyId.set({ key_id: keyId }, 1);
  }

  health(ok: boolean): void {
    this.#healthy.set(ok ? 1 : 0);
  }

  cache(kind: 'seed' | 'kek', hit: boolean, size: number): void {
    this.#cacheHits.inc({ cache: kind, result: hit ? 'hit' : 'miss' });
    this.#cacheSize.set({ cache: kind }, size);
  }

  /** Serves GET /metrics on host:port (default host 127.0.0.1); resolves with the bound port. */
  listen(hostPort: string): Promise<MetricsServer> {
    return serveMetrics(this.registry, hostPort);
  }
}
