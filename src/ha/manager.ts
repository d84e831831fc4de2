/**
 * Active/standby election over the PostgreSQL lease. Only an unsealed replica campaigns (a sealed one
 * could not serve). The active renews every lease/3; a standby tries to take over every second, which
 * succeeds once the lease has expired by the database clock: failover ≤ lease + 1 s.
 * If renewal fails (database unreachable, or someone else holds the lease), the active steps down no
 * later than its lease's end by the local monotonic clock, before any standby can take over. A new
 * active renews once more when its takeover is done, so a slow takeover is not taken for a lost lease.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/index.ts';
import type { PgLease } from './lease.ts';

export interface HaView {
  enabled: boolean;
  active: boolean;
  leaderAddress: string;
  activeSince: Date | undefined;
}

export interface HaCallbacks {
  /** Called before the replica starts serving as active (reload in-memory state here). */
  becomeActive(): Promise<void>;
  becomeStandby(): Promise<void>;
  /** Whether this replica may campaign (unsealed). */
  canCampaign(): boolean;
}

/** What the manager uses of the PostgreSQL lease (a fake in unit tests). */
export type LeaseStore = Pick<PgLease, 'tryAcquire' | 'release' | 'current' | 'close'> & Partial<Pick<PgLease, 'heartbeat' | 'members'>>;

/** One replica with a live heartbeat (`sys/ha-status`; the HTTP adapter gives it Vault's shape). */
export interface HaMember {
  id: string;
  apiAddr: string;
  active: boolean;
  /** When its last heartbeat was written (by the database clock); undefined for the active. */
  lastEcho: Date | undefined;
}

export class HaManager {
  readonly id: string;
  readonly #lease: LeaseStore;
  #beating = false;
  #lastBeat = Number.NEGATIVE_INFINITY;
  readonly #apiAddr: string;
  readonly #leaseSeconds: number;
  readonly #cb: HaCallbacks;
  readonly #log: Logger;
  #active = false;
  #activeSince: Date | undefined;
  #leaderAddr = '';
  /** Monotonic (`#now`) deadline after which an active that could not renew must stop. */
  #deadline = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;
  #transition: Promise<void> = Promise.resolve();
  readonly #now: () => number;

  /** `now`: a monotonic clock in ms (default performance.now; injectable for tests). */
  constructor(
    lease: LeaseStore,
    o: { apiAddr: string; leaseSeconds: number; log: Logger; callbacks: HaCallbacks; id?: string; now?: () => number },
  ) {
    this.id = o.id ?? `arca-${randomUUID()}`;
    this.#lease = lease;
    this.#apiAddr = o.apiAddr;
    this.#leaseSeconds = o.leaseSeconds;
    this.#cb = o.callbacks;
    this.#log = o.log.child({ component: 'ha', replica: this.id });
    this.#now = o.now ?? (() => performance.now());
  }

  /** `sys/ha-status`: the replicas with a live heartbeat, the lease holder first and marked active. */
  async members(): Promise<HaMember[]> {
    const [rows, lease] = await Promise.all([this.#lease.members?.() ?? Promise.resolve([]), this.#lease.current()]);
    const active = lease?.valid ? lease.holder : '';
    const out: HaMember[] = rows.map((m) => ({ id: m.id, apiAddr: m.apiAddr, active: m.id === active, lastEcho: m.id === active ? undefined : m.lastEcho }));
    if (active && !out.some((m) => m.active)) out.push({ id: active, apiAddr: lease!.apiAddr, active: true, lastEcho: undefined });
    return out.sort((a, b) => Number(b.active) - Number(a.active) || a.id.localeCompare(b.id));
  }

  view(): HaView {
    return { enabled: true, active: this.#active, leaderAddress: this.#active ? this.#apiAddr : this.#leaderAddr, activeSince: this.#activeSince };
  }

  get isActive(): boolean {
    return this.#active;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#round(), ms);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      await this.#transition;
      if (this.#active && this.#now() > this.#deadline) await this.#stepDown('lease could not be renewed in time');
      if (!this.#cb.canCampaign()) {
        if (this.#active) await this.#stepDown('sealed');
        await this.#refreshLeader();
        return;
      }
      this.#heartbeat();
      if (await this.#renew()) {
        if (!this.#active) {
          await this.#becomeActive();
          // A takeover reloads state over the database and can outlast the lease on a busy node:
          // renew at once, so the next round does not take a slow takeover for a lost lease.
          if (this.#active && !(await this.#renew())) await this.#stepDown('another replica holds the lease');
        }
      } else {
        if (this.#active) await this.#stepDown('another replica holds the lease');
        await this.#refreshLeader();
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'ha lease round failed');
    } finally {
      this.#running = false;
      this.#schedule(this.#active ? (this.#leaseSeconds * 1000) / 3 : 1000);
    }
  }

  /**
   * Unsealed replicas say they are there (sys/ha-status). Off the election's path: a slow database
   * must never delay the lease renewal, so it is not awaited, and one at a time.
   */
  #heartbeat(): void {
    // A third of the lease apart at most (a standby's round comes every second): a row lives
    // max(3, leaseSeconds) s, so two beats always overlap, for half the writes of one per round.
    if (this.#beating || !this.#lease.heartbeat || this.#now() - this.#lastBeat < (this.#leaseSeconds * 1000) / 3) return;
    this.#lastBeat = this.#now();
    this.#beating = true;
    this.#lease
      .heartbeat(this.id, this.#apiAddr, Math.max(3, this.#leaseSeconds))
      .catch((err: unknown) => this.#log.debug({ err: (err as Error).message }, 'ha heartbeat failed'))
      .finally(() => {
        this.#beating = false;
      });
  }

  /** Takes or renews the lease; on success the deadline moves to its end by the local clock. */
  async #renew(): Promise<boolean> {
    const start = this.#now();
    const held = await this.#lease.tryAcquire(this.id, this.#apiAddr, this.#leaseSeconds);
    // Measured from before the call: the database's expiry is at least this late.
    if (held) this.#deadline = start + this.#leaseSeconds * 1000 - 250;
    return held;
  }

  /**
   * Runs an election round now (e.g. a request arrived right after unseal, before the periodic round):
   * afterwards this replica is active, or knows the active, unless the database is unreachable.
   */
  async settle(): Promise<void> {
    if (this.#running) {
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    clearTimeout(this.#timer);
    await this.#round();
  }

  /** The active's address, asking the database when this standby does not know it yet. */
  async leaderAddress(): Promise<string> {
    if (this.#active) return this.#apiAddr;
    if (!this.#leaderAddr) await this.#refreshLeader();
    return this.#leaderAddr;
  }

  async #refreshLeader(): Promise<void> {
    const cur = await this.#lease.current().catch(() => undefined);
    // Our own (released or expired) lease is no leader to forward to.
    this.#leaderAddr = cur?.valid && cur.holder !== this.id ? cur.apiAddr : '';
  }

  async #becomeActive(): Promise<void> {
    this.#log.info('became active');
    this.#active = true;
    this.#activeSince = new Date();
    try {
      await this.#cb.becomeActive();
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'failed to take over as active; stepping down');
      await this.#stepDown('activation failed');
      await this.#lease.release(this.id).catch(() => {});
    }
  }

  async #stepDown(reason: string): Promise<void> {
    if (!this.#active) return;
    this.#log.warn({ reason }, 'stepping down to standby');
    this.#active = false;
    this.#activeSince = undefined;
    // What this replica knew of the leader predates its own term: forget it, so the next forward
    // asks the database instead of going to a replica that is no longer (or never again) active.
    this.#leaderAddr = '';
    await this.#cb.becomeStandby();
  }

  /** The storage fence refused a write: stop acting as active now, before the next round. */
  fenced(): void {
    if (!this.#active) return;
    this.#transition = this.#stepDown('write refused by the storage fence');
  }

  /** Voluntary step-down (sys/step-down): give up the lease for a while. */
  async stepDown(): Promise<void> {
    if (!this.#active) return;
    await this.#stepDown('step-down requested');
    await this.#lease.release(this.id);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#active) {
      this.#active = false;
      await this.#lease.release(this.id).catch(() => {});
    }
    await this.#lease.close();
  }
}
