/**
 * A tiny Prometheus endpoint (`GET /metrics` on host:port, default host 127.0.0.1) for the processes
 * that run beside kube-apiserver or in pods (KMS plugin, CSI provider): they load no HTTP framework.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `registry` at `GET /metrics`; resolves with the bound port (`hostPort` may be `:0`). */
export function serveMetrics(registry: Registry, hostPort: string): Promise<MetricsServer> {
  const m = /^(.*):(\d+)$/.exec(hostPort);
  const host = (m?.[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = Number(m?.[2] ?? hostPort);
  const srv = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const a = srv.address();
      resolve({ port: typeof a === 'object' && a ? a.port : port, close: () => new Promise<void>((r) => srv.close(() => r())) });
    });
  });
}
