/**
 * HttpMetrics counts in its own maps and hands prom-client the counts at scrape time: the scraped text
 * must be what prom-client's own Counter/Histogram would print for the same requests (this also pins
 * the prom-client internals `collect` writes into), and the audit broker's counters are served too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { auditCheckpointFailures } from '../audit/index.ts';
import { HttpMetrics } from './metrics.ts';

const OBSERVED: [string, string, number, number][] = [
  ['GET', 'secret', 200, 0.0003],
  ['GET', 'secret', 200, 0.0005],
  ['GET', 'secret', 404, 0.004],
  ['GET', 'sys', 200, 0.02],
  ['PUT', 'secret', 204, 7],
  ['GET', 'unknown', 404, 0.3],
];

/** The same requests recorded the straightforward way, with prom-client's own label children. */
async function reference(): Promise<string> {
  const r = new Registry();
  const c = new Counter({ name: 'vault_http_requests_total', help: 'HTTP requests by method, mount and status', labelNames: ['method', 'mount', 'status'], registers: [r] });
  const h = new Histogram({ name: 'vault_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'mount'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [r] });
  for (const [method, mount, status, s] of OBSERVED) {
    c.inc({ method, mount, status: String(status) });
    h.observe({ method, mount }, s);
  }
  return r.metrics();
}

describe('HttpMetrics', () => {
  it('scrapes the same counter and histogram text as prom-client recording each request', async () => {
    const m = new HttpMetrics();
    for (const [method, mount, status, s] of OBSERVED) m.record(method, mount, status, s);
    const text = await m.registry.metrics();
    const want = await reference();
    // Only the two request metrics: the merged registry also holds gauges and the audit counters.
    const pick = (t: string) => t.split('\n').filter((l) => l.includes('vault_http_request')).sort();
    assert.deepEqual(pick(text), pick(want));
    assert.match(text, /vault_http_request_duration_seconds_bucket\{le="0.0005",method="GET",mount="secret"\} 2/);
    assert.match(text, /vault_http_request_duration_seconds_count\{method="PUT",mount="secret"\} 1/);
    // A second scrape after more requests counts from the start, not from the last scrape.
    m.record('GET', 'secret', 200, 0.0001);
    assert.match(await m.registry.metrics(), /vault_http_requests_total\{method="GET",mount="secret",status="200"\} 3/);
    const json = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'vault_http_request_duration_seconds');
    assert.ok(json?.values.some((v) => (v as { metricName?: string }).metricName === 'vault_http_request_duration_seconds_count' && v.labels['mount'] === 'secret' && v.labels['method'] === 'GET' && v.value === 4));
  });

  it("serves the expiry sweep's figures as counters and gauges, with totals (not increments) per scrape", async () => {
    const m = new HttpMetrics();
    const before = await m.registry.metrics();
    assert.match(before, /^arca_tokens_stored 0$/m, 'nothing reported before sweep() is called');
    const stats = { runs: 3, failures: 1, revokedTokens: 7, deletedGovernance: 2, storedTokens: 40, lastSuccessAt: 1_700_000_000_500 };
    m.sweep(stats);
    m.sweep(stats);
    const text = await m.registry.metrics();
    assert.match(text, /^arca_expiry_sweep_runs_total\{result="success"\} 2$/m);
    assert.match(text, /^arca_expiry_sweep_runs_total\{result="failure"\} 1$/m);
    assert.match(text, /^arca_expiry_sweep_revoked_tokens_total 7$/m, 'a second scrape of the same totals does not double them');
    assert.match(text, /^arca_expiry_sweep_deleted_wrapping_total 2$/m);
    assert.match(text, /^arca_tokens_stored 40$/m);
    assert.match(text, /^arca_expiry_sweep_last_success_timestamp_seconds 1700000000.5$/m);
  });

  it("serves the audit broker's counters (arca_audit_*) with the HTTP metrics", async () => {
    const m = new HttpMetrics();
    const before = (await auditCheckpointFailures.get()).values[0]?.value ?? 0;
    auditCheckpointFailures.inc();
    const text = await m.registry.metrics();
    assert.match(text, new RegExp(`^arca_audit_checkpoint_failures_total ${before + 1}$`, 'm'));
    assert.match(text, /# TYPE arca_audit_chain_restarts_total counter/);
  });
});
