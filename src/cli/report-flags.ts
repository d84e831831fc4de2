/**
 * `--report` flags shared by `arca check` and `arca etcd scan`: send a posture summary to the
 * server (KV v2 mount, per-cluster path; see docs/operations.md §3). The server flags are named
 * --addr/--token/--server-cacert because --cacert/--cert/--key already mean etcd here.
 */
import type { Command } from 'commander';
import { ArcaClient } from '../client/index.ts';
import { type ReportSource, sendReport, validCluster } from '../k8s/report/index.ts';
import { UsageError } from './exit.ts';

type Opts = Record<string, unknown>;

export function withReportFlags(c: Command): Command {
  return c
    .option('--report', 'send a summary (counts, ids, states; no values, no object names) to the server')
    .option('--cluster <name>', 'cluster name: the report goes to <report-mount>/data/<cluster>/<source>')
    .option('--report-mount <path>', 'KV v2 mount that holds posture reports', 'posture')
    .option('--report-details', 'include evidence text and object keys (may name objects and files)')
    .option('--addr <url>', 'Arca server for --report (default $ARCA_ADDR)')
    .option('--token <token>', 'token allowed to write the report path (default $ARCA_TOKEN)')
    .option('--server-cacert <file>', 'CA of the Arca server certificate (default $ARCA_CACERT)');
}

/** Validates the flags before any work is done; undefined when no report was asked for. */
export function reportTarget(o: Opts): { mount: string; cluster: string; details: boolean } | undefined {
  if (o['report'] !== true) return undefined;
  const cluster = typeof o['cluster'] === 'string' ? o['cluster'] : '';
  if (!validCluster(cluster)) throw new UsageError('--report needs --cluster NAME (letters, digits, ".", "_", "-")');
  return { mount: String(o['reportMount'] ?? 'posture'), cluster, details: o['reportDetails'] === true };
}

export async function report(o: Opts, t: { mount: string; cluster: string }, source: ReportSource, summary: object): Promise<void> {
  const client = new ArcaClient({
    ...(typeof o['addr'] === 'string' ? { addr: o['addr'] } : {}),
    ...(typeof o['token'] === 'string' ? { token: o['token'] } : {}),
    ...(typeof o['serverCacert'] === 'string' ? { caCert: o['serverCacert'] } : {}),
  });
  try {
    const r = await sendReport(client, t, source, summary);
    process.stderr.write(`report: ${r.path}${r.version ? ` version ${r.version}` : ''}\n`);
  } finally {
    client.close();
  }
}
