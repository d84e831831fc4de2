/**
 * A token bucket per client key (e.g. client address) for failed authentication and unseal attempts.
 * PURE: the clock is injected, nothing is logged or stored. Each failure takes one token; a key with an
 * empty bucket is limited until tokens refill. Success does not refill: a guesser who also holds one
 * valid credential must not be able to reset the count.
 */
export interface FailureLimiterOptions {
  /** Failures allowed in a burst before limiting starts. */
  burst: number;
  /** Tokens regained per second (e.g. 0.1 = one more attempt every 10 s). */
  refillPerSecond: number;
  /** Milliseconds since any epoch. */
  now: () => number;
  /** Bound on tracked keys; when full, keys whose buckets have refilled are dropped first, then the oldest. */
  maxKeys?: number;
}

export interface LimitState {
  limited: boolean;
  /** Milliseconds until one more attempt is allowed (0 when not limited). */
  retryAfterMs: number;
  /** Attempts left before limiting. */
  remaining: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FailureLimiter {
  readonly #opts: Required<FailureLimiterOptions>;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: FailureLimiterOptions) {
    if (!(opts.burst >= 1) || !Number.isFinite(opts.burst)) throw new RangeError('burst must be a finite number >= 1');
    if (!(opts.refillPerSecond > 0) || !Number.isFinite(opts.refillPerSecond)) {
      throw new RangeError('refillPerSecond must be a finite number > 0');
    }
    this.#opts = { ...opts, maxKeys: opts.maxKeys ?? 100_000 };
  }

  #current(key: string): Bucket {
    const now = this.#opts.now();
    const b = this.#buckets.get(key);
    if (!b) return { tokens: this.#opts.burst, at: now };
    // A clock that goes backwards must not mint tokens.
    const elapsed = Math.max(0, now - b.at) / 1000;
    return { tokens: Math.min(this.#opts.burst, b.tokens + elapsed * this.#opts.refillPerSecond), at: Math.max(now, b.at) };
  }

  #state(b: Bucket): LimitState {
    if (b.tokens >= 1) return { limited: false, retryAfterMs: 0, remaining: Math.floor(b.tokens) };
    // Rounded to microseconds first so float noise (0.999 + 0.001 != 1) does not add a millisecond.
    const ms = Math.round(((1 - b.tokens) / this.#opts.refillPerSecond) * 1e6) / 1e3;
    return { limited: true, retryAfterMs: Math.max(1, Math.ceil(ms)), remaining: 0 };
  }

  /** Whether `key` is limited now (call before attempting authentication). Does not consume. */
  check(key: string): LimitState {
    return this.#state(this.#current(key));
  }

  /** Records a failed attempt by `key`; returns the state after it. */
  recordFailure(key: string): LimitState {
    const b = this.#current(key);
    b.tokens = Math.max(0, b.tokens - 1);
    this.#buckets.delete(key);
    this.#evictIfFull();
    this.#buckets.set(key, b);
    return this.#state(b);
  }

  /** Forgets `key` (e.g. after an operator clears a lockout). */
  reset(key: string): void {
    this.#buckets.delete(key);
  }

  /** Whether `key` has a bucket (it failed, and was not dropped since); a cheap test before `check`. */
  has(key: string): boolean {
    return this.#buckets.has(key);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #evictIfFull(): void {
    if (this.#buckets.size < this.#opts.maxKeys) return;
    for (const k of [...this.#buckets.keys()]) {
      if (this.#current(k).tokens >= this.#opts.burst) this.#buckets.delete(k);
    }
    while (this.#buckets.size >= this.#opts.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done) break;
      this.#buckets.delete(oldest.value);
    }
  }
}
