/**
 * Per-user login lockout (Vault's user lockout defaults): after THRESHOLD failed logins for one user
 * name within WINDOW, that name is refused for DURATION, whatever the password. Counters are keyed by
 * user name only, so failures for one user never lock out another; a success clears the counter.
 * In memory per replica: a restart or failover forgets counters (documented in docs/governance.md).
 */
export const LOCKOUT = { threshold: 5, windowMs: 15 * 60_000, durationMs: 15 * 60_000, maxTracked: 10_000 } as const;

interface Counter {
  failures: number;
  first: number;
  lockedUntil: number;
}

export class UserLockout {
  readonly #now: () => number;
  readonly #m = new Map<string, Counter>();

  constructor(now: () => number) {
    this.#now = now;
  }

  locked(name: string): boolean {
    const c = this.#m.get(name);
    return c !== undefined && c.lockedUntil > this.#now();
  }

  failed(name: string): void {
    const now = this.#now();
    let c = this.#m.get(name);
    if (!c || (now - c.first > LOCKOUT.windowMs && c.lockedUntil <= now)) {
      if (!c && this.#m.size >= LOCKOUT.maxTracked) {
        this.#evict(now);
        // Every tracked name is locked: memory stays bounded and this name goes untracked (its
        // guesses still cost a full scrypt each); locked users are never released early.
        if (this.#m.size >= LOCKOUT.maxTracked) return;
      }
      c = { failures: 0, first: now, lockedUntil: 0 };
      this.#m.set(name, c);
    }
    c.failures++;
    if (c.failures >= LOCKOUT.threshold) c.lockedUntil = now + LOCKOUT.durationMs;
  }

  succeeded(name: string): void {
    this.#m.delete(name);
  }

  /** Drops expired counters; if all are live, the oldest (never a locked one while others remain). */
  #evict(now: number): void {
    for (const [k, c] of this.#m) if (c.lockedUntil <= now && now - c.first > LOCKOUT.windowMs) this.#m.delete(k);
    if (this.#m.size < LOCKOUT.maxTracked) return;
    for (const [k, c] of this.#m) {
      if (c.lockedUntil <= now) {
        this.#m.delete(k);
        return;
      }
    }
  }
}
