/**
 * The control-plane certificate agent: issues a node's kubeadm layout, then renews it before a
 * configurable fraction of its lifetime has passed (kubelet uses 70–90 %), writing each file
 * atomically and running a reload command after each successful write. A failed renewal is
 * retried with backoff and logged; the certificates on disk keep working until they expire, so the
 * retry window is the remaining lifetime.
 */
import { spawn } from 'node:child_process';
import type { ArcaClient } from '../client/index.ts';
import type { Logger } from '../log/index.ts';
import { issueNode, type Mounts, type NodeParams } from './pki-control-plane.ts';

export interface AgentOptions {
  dir: string;
  ttl: string | undefined;
  /** Renew when this fraction of the lifetime (from issuance to NotAfter) has passed. */
  renewFraction: number;
  reloadCommand: string | undefined;
  log: Logger;
  /** Resolves to stop the loop (SIGTERM). */
  stopped: Promise<void>;
}

const MIN_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

/** Runs `sh -c cmd`; resolves with its exit code (the agent keeps going either way). */
function runReload(cmd: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', cmd], { stdio: 'inherit' });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/** When to renew: issuance + fraction × (earliest NotAfter − issuance), in epoch ms. */
export function renewAt(issuedAtMs: number, expirationsSec: number[], fraction: number): number {
  const notAfter = Math.min(...expirationsSec) * 1000;
  return issuedAtMs + Math.max(0, notAfter - issuedAtMs) * fraction;
}

export async function runAgent(c: ArcaClient, m: Mounts, p: NodeParams, o: AgentOptions): Promise<void> {
  let stopped = false;
  void o.stopped.then(() => {
    stopped = true;
  });
  // The timer keeps the process alive while waiting; a stop clears it so the process can exit.
  const sleep = (ms: number) => {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((r) => (t = setTimeout(r, ms))), o.stopped]).finally(() => clearTimeout(t));
  };
  let retry = MIN_RETRY_MS;
  while (!stopped) {
    const issuedAt = Date.now();
    let next: number;
    try {
      const out = await issueNode(c, m, p, o.dir, o.ttl);
      next = renewAt(issuedAt, out.map((r) => r.expiration), o.renewFraction);
      o.log.info({ files: out.length, notAfter: new Date(Math.min(...out.map((r) => r.expiration)) * 1000).toISOString(), renewAt: new Date(next).toISOString() }, 'certificates written');
      retry = MIN_RETRY_MS;
      if (o.reloadCommand) {
        const code = await runReload(o.reloadCommand);
        if (code !== 0) o.log.warn({ exitCode: code }, 'reload command failed');
      }
    } catch (err) {
      o.log.error({ err: (err as { code?: string }).code ?? String(err), retryMs: retry }, 'certificate renewal failed');
      next = Date.now() + retry;
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
    await sleep(Math.max(0, next - Date.now()));
  }
}
