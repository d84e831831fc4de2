/**
 * Posture reports: summaries of `arca check`, `arca etcd scan` (and later the KMS plugin) sent to
 * the server under `<mount>/data/<cluster>/<source>` of a KV v2 mount (default `posture/`). The
 * KV versions are the history (GET = latest, metadata = the short history), and the mount gets its
 * own policy. Summaries hold counts, ids and states only: no values, and no object names or
 * evidence text unless `details` is asked for (evidence can name pods and files).
 */
import type { ArcaClient } from '../../client/index.ts';
import type { Finding } from '../check/index.ts';
import type { CheckSummary, PluginSummary, ScanSummary } from './shapes.ts';

export type { CheckSummary, PluginSummary, ScanSummary } from './shapes.ts';

/** `kms-plugin.<node>`: one report per plugin instance */
export type ReportSource = 'check' | 'etcd-scan' | `kms-plugin.${string}`;

export function checkSummary(findings: readonly Finding[], details = false, now = new Date()): CheckSummary {
  const byStatus: Record<string, number> = {};
  const failedBySeverity: Record<string, number> = {};
  for (const f of findings) {
    byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    if (f.status === 'fail') failedBySeverity[f.severity] = (failedBySeverity[f.severity] ?? 0) + 1;
  }
  return {
    kind: 'check',
    at: now.toISOString(),
    byStatus,
    failedBySeverity,
    findings: findings.map((f) => (details ? { id: f.id, status: f.status, severity: f.severity, evidence: f.evidence } : { id: f.id, status: f.status, severity: f.severity })),
  };
}

export function scanSummary(
  r: { total: number; byState: Record<string, number>; byProvider: Record<string, Record<string, number>>; byResource: Record<string, Record<string, number>>; objects: { key: string; state: string }[] },
  details = false,
  now = new Date(),
): ScanSummary {
  const s: ScanSummary = { kind: 'etcd-scan', at: now.toISOString(), total: r.total, byState: r.byState, byProvider: r.byProvider, byResource: r.byResource };
  if (details) s.objects = r.objects.filter((o) => o.state !== 'current').map((o) => ({ key: o.key, state: o.state }));
  return s;
}

export interface ReportTarget {
  mount: string;
  cluster: string;
}

/** A cluster name becomes one path segment: letters, digits, `.`, `_`, `-`. */
export function validCluster(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name);
}

export async function sendReport(client: ArcaClient, t: ReportTarget, source: ReportSource, summary: object): Promise<{ path: string; version?: number }> {
  const path = `${t.mount.replace(/^\/+|\/+$/g, '')}/data/${t.cluster}/${source}`;
  const r = await client.write(path, { data: summary });
  const v = (r.body['data'] as { version?: unknown } | undefined)?.version;
  return typeof v === 'number' ? { path, version: v } : { path };
}

export function pluginSummary(s: { version: string; healthz: string; keyId: string }, node: string, source: string, now = new Date()): PluginSummary {
  return { kind: 'kms-plugin', at: now.toISOString(), node, source, version: s.version, healthz: s.healthz, keyId: s.keyId };
}

/** A host name as one path segment. */
export function nodeSegment(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'node';
}
