/**
 * The serving certificate, reloaded when its files change (cert rotation without restart, e.g. a
 * cert-manager Secret mounted as a volume, which kubelet swaps by renaming a `..data` symlink). The
 * directories are watched (a file watch would keep following the old inode); a slow re-check also
 * runs in case an event is missed. A pair that does not load keeps the previous one in service.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ArcaError } from '../../errors/index.ts';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  context: SecureContext;
  /** Unix seconds. */
  notAfter: number;
  digest: string;
}

export function loadTlsPair(certFile: string, keyFile: string): TlsPair {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (err) {
    throw new ArcaError('ERR_CONFIG_READ', `cannot read the TLS certificate or key file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const context = createSecureContext({ cert, key });
    const notAfter = Math.floor(new Date(new X509Certificate(cert).validTo).getTime() / 1000);
    return { cert, key, context, notAfter, digest: createHash('sha256').update(cert).update(key).digest('hex') };
  } catch {
    throw new ArcaError('ERR_CONFIG_INVALID', 'the TLS certificate and key do not load as a PEM pair (check both files and that the key matches)');
  }
}

export interface TlsWatcher {
  close(): void;
  /** Re-reads now; resolves whether a new pair was taken into service. */
  check(): boolean;
}

export function watchTlsPair(
  certFile: string,
  keyFile: string,
  current: TlsPair,
  onChange: (p: TlsPair) => void,
  onError: (err: unknown) => void,
  recheckMs = 60_000,
): TlsWatcher {
  let digest = current.digest;
  let timer: NodeJS.Timeout | undefined;
  const check = (): boolean => {
    let p: TlsPair;
    try {
      p = loadTlsPair(certFile, keyFile);
    } catch (err) {
      // Mid-rotation the cert may be new and the key still old: keep serving, a later event retries.
      onError(err);
      return false;
    }
    if (p.digest === digest) return false;
    digest = p.digest;
    onChange(p);
    return true;
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(check, 200);
  };
  const watchers: FSWatcher[] = [...new Set([dirname(certFile), dirname(keyFile)])].map((d) => watch(d, { persistent: false }, soon));
  const interval = setInterval(check, recheckMs);
  interval.unref();
  return {
    check,
    close() {
      clearTimeout(timer);
      clearInterval(interval);
      for (const w of watchers) w.close();
    },
  };
}
