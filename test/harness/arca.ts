/**
 * Runs the real `arca server` (bin/arca) as a child process on 127.0.0.1, for black-box tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ArcaClient } from '../../src/client/index.ts';
import { freePort, stopChild, waitFor } from './util.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARCA_BIN = join(REPO_ROOT, 'bin', 'arca');

export interface ArcaProcess {
  addr: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  client(token?: string): ArcaClient;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Written to a YAML file passed with --config. */
  config?: Record<string, unknown>;
  configDir?: string;
  port?: number;
  /** Wait until sys/seal-status answers (default true). */
  wait?: boolean;
}

export async function startArca(o: StartOptions = {}): Promise<ArcaProcess> {
  const port = o.port ?? (await freePort());
  const args = ['server', '--listen', `127.0.0.1:${port}`, ...(o.args ?? [])];
  if (o.config) {
    const file = join(o.configDir ?? REPO_ROOT, `arca-test-${port}.yaml`);
    await writeFile(file, stringify(o.config), { mode: 0o600 });
    args.push('--config', file);
  }
  const child = spawn(ARCA_BIN, args, { env: { ...process.env, ARCA_LOG_LEVEL: 'info', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const addr = `http://127.0.0.1:${port}`;
  const p: ArcaProcess = {
    addr,
    port,
    child,
    exited,
    output: () => out,
    client: (token?: string) => new ArcaClient({ addr, ...(token ? { token } : {}) }),
    stop: () => stopChild(child),
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
  if (o.wait !== false) {
    const dev = (o.args ?? []).includes('--dev');
    const c = new ArcaClient({ addr, timeoutMs: 2000 });
    try {
      await waitFor('arca server', async () => {
        if (child.exitCode !== null) throw new Error(`arca exited with ${child.exitCode}: ${out}`);
        const r = await c.request('GET', 'sys/seal-status');
        if (r.status !== 200) return undefined;
        // A dev server answers seal-status before its bootstrap has initialized and unsealed it:
        // callers write right away, so wait for the bootstrap too.
        if (!dev) return true;
        const b = r.body as { initialized?: boolean; sealed?: boolean };
        return b.initialized === true && b.sealed === false ? true : undefined;
      }, 30_000, 100);
    } finally {
      c.close();
    }
  }
  return p;
}

/** Initializes a fresh server with one share and unseals it; returns the root token and the share. */
export async function initUnsealed(srv: ArcaProcess): Promise<{ root: string; key: string }> {
  const c = srv.client();
  const init = (await c.write('sys/init', { secret_shares: 1, secret_threshold: 1 })).body as { keys: string[]; root_token: string };
  await c.write('sys/unseal', { key: init.keys[0] });
  return { root: init.root_token, key: init.keys[0]! };
}

/**
 * When the server's last expiry sweep ended (seconds since the epoch, 0 before the first), read from
 * its own `sys/metrics` (`arca_expiry_sweep_last_success_timestamp_seconds`). Tests that ask for a
 * sweep with `auth/token/tidy` start the server with a long `expirySweep.intervalSeconds` and wait
 * for this to be non-zero first, so the scheduled sweep cannot be the one that does their work.
 */
export async function lastSweepAt(client: ArcaClient): Promise<number> {
  const r = await client.request('GET', 'sys/metrics');
  if (r.status !== 200) throw new Error(`sys/metrics answered ${r.status}`);
  const metrics = r.body as unknown as { name: string; values: { value: number }[] }[];
  return metrics.find((m) => m.name === 'arca_expiry_sweep_last_success_timestamp_seconds')?.values[0]?.value ?? 0;
}
