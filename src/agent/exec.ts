/**
 * exec mode: fetch the `env` targets, start the app with those values added to its environment,
 * forward signals to it, and exit with its exit code (128 + signal number when it was killed by a
 * signal, as a shell reports it). The values exist only in the child's environment: the agent's
 * own environment (/proc/self/environ) and argv never hold them.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ArcaError } from '../errors/index.ts';
import { scalarText } from '../render/index.ts';
import type { EnvTarget } from './config.ts';
import type { KvSecret, Session } from './session.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function collectEnv(session: Session, targets: readonly EnvTarget[]): Promise<Record<string, string>> {
  const cache = new Map<string, KvSecret>();
  const env: Record<string, string> = {};
  for (const t of targets) {
    const key = `${t.ref.mount}/${t.ref.path}@${t.version ?? ''}`;
    let s = cache.get(key);
    if (!s) {
      s = await session.read(t.ref, t.display, t.version);
      cache.set(key, s);
    }
    if (!Object.hasOwn(s.data, t.field)) throw new ArcaError('ERR_RENDER_FIELD_MISSING', `${t.display}: field "${t.field}" is not in the secret (for ${t.name})`);
    const v = scalarText(s.data[t.field]);
    if (v.includes('\0')) throw new ArcaError('ERR_RENDER_INVALID', `${t.display}: field "${t.field}" holds a NUL byte, which no environment variable can carry`);
    env[t.name] = v;
  }
  return env;
}

/** Runs argv with `extra` added to the agent's environment; resolves with the exit status to use. */
export function runChild(argv: readonly string[], extra: Record<string, string>): Promise<number> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new ArcaError('ERR_CONFIG_INVALID', 'exec needs a command after --'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extra } });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      const h = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once('error', (err) => {
      cleanup();
      reject(new ArcaError('ERR_AGENT_EXEC_FAILED', `cannot start ${cmd}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
