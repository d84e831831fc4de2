/**
 * Unix sockets of the gRPC servers (KMS plugin, CSI provider): `unix:///path` parsing, stale socket
 * files (removed only when nothing answers on them), and 0600 permissions from the moment the
 * socket exists.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { ArcaError } from '../errors/index.ts';

/** `unix:///run/arca/kms.sock` → `/run/arca/kms.sock`. */
export function socketPath(listen: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(listen);
  if (!m?.[1]) throw new ArcaError('ERR_CONFIG_INVALID', `--listen must be unix:///absolute/path.sock, got "${listen}"`);
  if (m[1].startsWith('/@')) throw new ArcaError('ERR_CONFIG_INVALID', 'abstract unix sockets are not supported; use a socket file path');
  return m[1];
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(true));
  });
}

/** Removes a socket file left behind by a crashed plugin; refuses if a live process serves it. */
export async function clearStaleSocket(path: string): Promise<void> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ArcaError('ERR_CONFIG_INVALID', `cannot inspect ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!st.isSocket()) throw new ArcaError('ERR_CONFIG_INVALID', `${path} exists and is not a socket; remove it or choose another --listen path`);
  if (await answers(path)) throw new ArcaError('ERR_CONFIG_INVALID', `another process is serving ${path}; stop it first`);
  unlinkSync(path);
}

/**
 * Clears a stale socket file (see clearStaleSocket), then runs `bind` with umask 0177 so the socket
 * is born 0600, and chmods it to be sure.
 */
export async function bindPrivate<T>(path: string, bind: () => Promise<T>): Promise<T> {
  await clearStaleSocket(path);
  const old = process.umask(0o177);
  try {
    return await bind();
  } finally {
    process.umask(old);
    try {
      chmodSync(path, 0o600);
    } catch {
      // bind failed; its error is what matters
    }
  }
}

export function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone
  }
}
