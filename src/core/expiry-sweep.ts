/**
 * The active replica's clean-up of expired state: tokens (`TokenStore.sweepExpired`, which revokes
 * them as Vault's expiration manager does at expiry) and what the governance hooks hold (wrapping
 * tokens, control-group requests). Expired state is already refused wherever it is presented; the
 * sweep is what keeps storage from growing with every login.
 *
 * The core's tick asks `due()` every 10 s: the first tick after start is due, then one sweep every
 * `intervalMs` (the server's `expirySweep.intervalSeconds`, default SWEEP_MIN_INTERVAL_MS), or more
 * seldom when sweeps are slow (the interval is at least 100× the last
 * sweep's duration, so sweeping a large store takes at most ~1% of the time). One sweep at a time:
 * a second caller joins the running one.
 */
import type { Logger } from '../log/index.ts';
import type { TokenStore } from './tokens.ts';

export const SWEEP_MIN_INTERVAL_MS = 60_000;
const SWEEP_DUTY = 100;

export interface SweepResult {
  /** Tokens revoked (expired, or otherwise dead; children revoked with a parent not counted). */
  tokens: number;
  /** Wrapping tokens and control-group requests deleted. */
  governance: number;
}

/** What `sys/metrics` reports of the sweeps since this process started. */
export interface SweepStats {
  runs: number;
  failures: number;
  revokedTokens: number;
  deletedGovernance: number;
  /** Tokens stored at the last successful sweep, before it revoked any (-1 before the first). */
  storedTokens: number;
  /** When the last successful sweep ended (ms since the epoch; 0 before the first). */
  lastSuccessAt: number;
}

export interface SweepDeps {
  now: () => number;
  tokens: () => TokenStore;
  governance?: (() => Promise<number>) | undefined;
  log: Logger;
  /** The least time between two scheduled sweeps (default SWEEP_MIN_INTERVAL_MS); `run()` ignores it. */
  intervalMs?: number | undefined;
}

export class ExpirySweep {
  readonly #d: SweepDeps;
  #next = 0;
  #running: Promise<SweepResult> | undefined;
  readonly #stats: SweepStats = { runs: 0, failures: 0, revokedTokens: 0, deletedGovernance: 0, storedTokens: -1, lastSuccessAt: 0 };

  constructor(d: SweepDeps) {
    this.#d = d;
  }

  get stats(): Readonly<SweepStats> {
    return this.#stats;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  due(): boolean {
    return !this.#running && this.#d.now() >= this.#next;
  }

  run(): Promise<SweepResult> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<SweepResult> {
    const start = this.#d.now();
    const st = this.#stats;
    st.runs++;
    try {
      const t = await this.#d.tokens().sweepExpired();
      const governance = (await this.#d.governance?.()) ?? 0;
      st.revokedTokens += t.revoked;
      st.deletedGovernance += governance;
      st.storedTokens = t.scanned;
      st.lastSuccessAt = this.#d.now();
      if (t.revoked + governance > 0) this.#d.log.info({ tokens: t.revoked, governance, stored: t.scanned }, 'expired tokens and wrapped responses removed');
      return { tokens: t.revoked, governance };
    } catch (err) {
      st.failures++;
      throw err;
    } finally {
      const end = this.#d.now();
      this.#next = end + Math.max(this.#d.intervalMs ?? SWEEP_MIN_INTERVAL_MS, (end - start) * SWEEP_DUTY);
    }
  }
}
