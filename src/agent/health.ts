/**
 * Optional /healthz and /metrics for the sidecar. prom-client is imported only when the endpoint
 * is enabled. Metrics carry secret names (file names chosen by the operator) and versions, never
 * values. /healthz answers 200 `ok` while refreshes succeed and 503 `degraded` after
 * `degradedAfter` consecutive failures (files keep their last good content either way).
 */
import http from 'node:http';
import type { Agent } from './agent.ts';

export async function startHealthServer(agent: Agent, listen: string): Promise<http.Server> {
  const mod = await import('prom-client');
  // A CommonJS module: Node's ESM loader exposes named exports, a bundler's import() may give only `default`.
  const prom = typeof mod.Registry === 'function' ? mod : (mod as unknown as { default: typeof mod }).default;
  const registry = new prom.Registry();
  const labelNames = ['secret'] as const;
  // Counters mirror the agent's own tallies at scrape time (reset + inc keeps them monotonic).
  new prom.Counter({
    name: 'arca_agent_renders_total', help: 'Files written (content changed) per secret', labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [name, s] of agent.status.targets) this.inc({ secret: name }, s.renders);
    },
  });
  new prom.Counter({
    name: 'arca_agent_render_failures_total', help: 'Failed fetch/render/write attempts per secret', labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [name, s] of agent.status.targets) this.inc({ secret: name }, s.failures);
    },
  });
  new prom.Gauge({
    name: 'arca_agent_secret_version', help: 'KV version currently rendered per secret', labelNames, registers: [registry],
    collect() {
      for (const [name, s] of agent.status.targets) if (s.version !== undefined) this.set({ secret: name }, s.version);
    },
  });
  new prom.Gauge({
    name: 'arca_agent_last_success_timestamp_seconds', help: 'Unix time of the last successful refresh', registers: [registry],
    collect() {
      if (agent.status.lastSuccessMs !== undefined) this.set(agent.status.lastSuccessMs / 1000);
    },
  });
  new prom.Gauge({
    name: 'arca_agent_consecutive_failures', help: 'Failed refresh cycles in a row', registers: [registry],
    collect() {
      this.set(agent.status.consecutiveFailures);
    },
  });
  new prom.Gauge({
    name: 'arca_agent_healthy', help: '1 while refreshes succeed, 0 when degraded', registers: [registry],
    collect() {
      this.set(agent.healthy ? 1 : 0);
    },
  });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      const ok = agent.healthy;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'degraded\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(i + 1)), host, () => resolve());
  });
  return server;
}
