/**
 * Arca tokens from pod logins, reused across Mount calls of the same pod token: rotation calls
 * Mount every couple of minutes per pod, and kubelet hands over the same service-account token
 * until it nears expiry, so most calls need no login (a JWT verification and a token write on the
 * server) and no revoke.
 *
 * Bounds: the key is a hash of (server, auth mount, role, pod JWT), so an entry can only ever serve
 * the pod whose token produced it; an entry lives at most 2/3 of the Arca token's TTL and never
 * past the pod token's own `exp`; a token the server refuses is dropped (mount.ts retries once with
 * a fresh login). Pod tokens without `exp` are never cached.
 */
import { createHash } from 'node:crypto';

const MAX_ENTRIES = 4096;
/** Leave this much of the pod token's life unused, for clock skew between node and server. */
const SKEW_MS = 60_000;

interface Entry {
  token: string;
  expiresAt: number;
}

/** The `exp` claim of a JWT in ms, read without verification (the server verifies at login). */
export function jwtExpiry(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class LoginCache {
  readonly #entries = new Map<string, Entry>();
  constructor(readonly now: () => number = Date.now) {}

  static key(addr: string, authMount: string, role: string, jwt: string): string {
    return createHash('sha256').update(`${addr}\0${authMount}\0${role}\0${jwt}`).digest('base64url');
  }

  get(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** Caches a login's token; returns false (nothing cached) when it cannot be bounded safely. */
  set(key: string, token: string, leaseSeconds: number, jwt: string): boolean {
    const exp = jwtExpiry(jwt);
    if (exp === undefined || !(leaseSeconds > 0)) return false;
    const now = this.now();
    const expiresAt = Math.min(now + (leaseSeconds * 1000 * 2) / 3, exp - SKEW_MS);
    if (expiresAt <= now) return false;
    if (this.#entries.size >= MAX_ENTRIES) this.#evictExpiredOrOldest();
    this.#entries.set(key, { token, expiresAt });
    return true;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #evictExpiredOrOldest(): void {
    const now = this.now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
