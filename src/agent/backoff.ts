import { isArcaError } from '../errors/index.ts';

/**
 * Exponential backoff with jitter: attempt n waits a random time in [½, 1) × min(max, base·2ⁿ).
 * The jitter spreads the retries of many pods that lost the server at the same moment; the floor
 * of ½ keeps a retry from landing immediately after the failure.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, rand: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + rand() / 2));
}

/** Failures worth retrying: the server may come back (unreachable, sealed, standby, overloaded, 5xx). */
export function isTransient(err: unknown): boolean {
  if (!isArcaError(err)) return false;
  switch (err.code) {
    case 'ERR_SERVER_UNREACHABLE':
    case 'ERR_SEALED':
    case 'ERR_HA_STANDBY':
    case 'ERR_RATE_LIMITED':
    case 'ERR_INTERNAL':
    case 'ERR_STORAGE_UNAVAILABLE':
    case 'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE':
      return true;
    default: {
      const status = err.details?.['status'];
      return typeof status === 'number' && status >= 500;
    }
  }
}
