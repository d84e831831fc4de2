/**
 * Prometheus metrics of the provider (prom-client, own registry): Mount and Version calls by result
 * code, Mount latency, and mounts over the 1 MiB Secret-sync limit. Labels are codes and RPC names
 * only: never a pod, path or value, so nothing secret (or unbounded) reaches a scrape.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { type MetricsServer, serveMetrics } from '../../metrics/index.ts';

export class CsiMetrics {
  readonly registry = new Registry();
  readonly #calls = new Counter({
    name: 'arca_csi_provider_rpc_total',
    help: 'CSI provider RPCs by RPC and result code ("ok" or the Error code returned)',
    labelNames: ['rpc', 'code'],
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'arca_csi_provider_mount_duration_seconds',
    help: 'Mount latency (login, reads, rendering)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #large = new Counter({
    name: 'arca_csi_provider_mount_over_sync_limit_total',
    help: 'Mounts whose files exceed 1 MiB (secretObjects sync to a Kubernetes Secret will fail)',
    registers: [this.registry],
  });

  /** Starts a timer; call the result with the outcome code ("ok" on success). */
  mount(): (code: string) => void {
    const end = this.#latency.startTimer();
    return (code) => {
      end();
      this.#calls.inc({ rpc: 'Mount', code });
    };
  }

  version(): void {
    this.#calls.inc({ rpc: 'Version', code: 'ok' });
  }

  overSyncLimit(): void {
    this.#large.inc();
  }

  /** Serves GET /metrics on host:port (default host 127.0.0.1); resolves with the bound port. */
  listen(hostPort: string): Promise<MetricsServer> {
    return serveMetrics(this.registry, hostPort);
  }
}
