/**
 * Limits on failed token authentications and bad unseal shares: a burst of 10, then one more
 * attempt every 5 s (auth) / 2 s (unseal); successes do not refill (see FailureLimiter).
 *
 * Authentication limits only ever shape the answer to a FAILED lookup (the core looks a token up
 * first), so a caller with a valid token is never refused because others behind the same address
 * (node, NAT, ingress) failed:
 *  - per (client address, keyed hash of the presented credential): a credential that already failed
 *    a burst from this address is refused without a lookup;
 *  - per client address: an address that keeps failing gets 429 instead of 403 for its failures.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { FailureLimiter } from '../policy/index.ts';

export class AttemptLimits {
  readonly #log: Logger;
  readonly #perAddress: FailureLimiter;
  readonly #perCredential: FailureLimiter;
  readonly #unseal: FailureLimiter;
  /** Per-process key for the credential hashes (they live in memory only). */
  readonly #key = randomBytes(32);

  constructor(now: () => number, log: Logger) {
    this.#log = log;
    this.#perAddress = new FailureLimiter({ burst: 10, refillPerSecond: 0.2, now });
    this.#perCredential = new FailureLimiter({ burst: 10, refillPerSecond: 0.2, now });
    this.#unseal = new FailureLimiter({ burst: 10, refillPerSecond: 0.5, now });
  }

  #refuseIfLimited(l: FailureLimiter, key: string, client: string, what: string): void {
    const st = l.check(key);
    if (st.limited) {
      this.#log.warn({ client, what }, 'rate limited after failed attempts');
      throw new ArcaError('ERR_RATE_LIMITED', `too many failed ${what} attempts from this client; retry in ${Math.ceil(st.retryAfterMs / 1000)} s`, { details: { retryAfterMs: st.retryAfterMs } });
    }
  }

  #credentialKey(clientAddr: string, token: string): string {
    return `${clientAddr} ${createHmac('sha256', this.#key).update(token).digest('base64url')}`;
  }

  /** Before a lookup: 429 for a credential that already failed a burst from this address. */
  beforeLookup(clientAddr: string, token: string): void {
    // No hashing on the request path unless this address has failed: every failure is counted per
    // address as well, and a credential's bucket never holds fewer tokens than its address's (same
    // burst and refill, a subset of the failures), so a credential can only be limited where its
    // address has a bucket. (Beyond 100k concurrently failing addresses the per-address limiter
    // drops its oldest buckets; such an address then gets one lookup, which fails and counts again.)
    if (this.#perCredential.size === 0 || !this.#perAddress.has(clientAddr)) return;
    this.#refuseIfLimited(this.#perCredential, this.#credentialKey(clientAddr, token), clientAddr, 'authentication');
  }

  /** After a failed lookup: counts it, and throws 429 when the address was already limited. */
  lookupFailed(clientAddr: string, token: string): void {
    this.#perCredential.recordFailure(this.#credentialKey(clientAddr, token));
    const limited = this.#perAddress.check(clientAddr).limited;
    this.#perAddress.recordFailure(clientAddr);
    if (limited) this.#refuseIfLimited(this.#perAddress, clientAddr, clientAddr, 'authentication');
  }

  beforeUnseal(clientAddr: string): void {
    this.#refuseIfLimited(this.#unseal, clientAddr, clientAddr, 'unseal');
  }

  unsealFailed(clientAddr: string): void {
    this.#unseal.recordFailure(clientAddr);
  }
}
