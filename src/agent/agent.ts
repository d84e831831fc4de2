/**
 * The agent's core: render every configured secret once (init), then keep the files current
 * (sidecar). State lives in one object per target; the loop is a single timer, never a busy wait.
 *
 * - init: fetch and render everything in memory first; only when every secret rendered are files
 *   written, so a failure leaves no partial set behind (and each write is atomic).
 * - sidecar: each interval, ask for every distinct secret's current version (metadata), and fetch,
 *   render and write only targets whose version moved (its number or, after a snapshot restore
 *   reused a number, its creation time); a file whose bytes did not change is not
 *   touched. A failed cycle keeps every file as it is and retries with exponential backoff and
 *   jitter (capped at the interval); after `degradedAfter` consecutive failures health is degraded.
 */
import type { Logger } from 'pino';
import { ArcaError, isArcaError } from '../errors/index.ts';
import type { SecretInput } from '../render/index.ts';
import type { AgentConfig, OtherSecret, SecretTarget } from './config.ts';
import { backoffDelay, isTransient } from './backoff.ts';
import { type KvSecret, type Revision, revisionKey, revisionOf, type Session } from './session.ts';
import { isCurrent, writeAtomic } from './writer.ts';

export interface TargetState {
  version: number | undefined;
  /** The revision rendered (`revisionKey`: version and creation time, so a reused number is seen). */
  revision?: string | undefined;
  /** A template over several secrets: the revisions of the others, as rendered (`alias@rev,…`). */
  others?: string | undefined;
  bytes: Uint8Array | undefined;
  renders: number;
  failures: number;
}

export interface AgentStatus {
  consecutiveFailures: number;
  lastSuccessMs: number | undefined;
  cycles: number;
  readonly targets: ReadonlyMap<string, TargetState>;
}

export interface AgentDeps {
  config: AgentConfig;
  session: Session;
  log: Logger;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Called after a cycle that rewrote at least one file. */
  onChange?: (changed: string[]) => Promise<void>;
}

type Current = Revision & { secret?: KvSecret };

/** The render input of a target: its secret, plus the others of a template over several secrets. */
function withOthers(s: KvSecret, others: readonly [string, KvSecret][]): SecretInput {
  return others.length ? { ...s, secrets: Object.fromEntries(others) } : s;
}

/** What a target's other secrets were rendered at, to see when one moved. */
function stamp(others: readonly (readonly [string, Revision])[]): string | undefined {
  return others.length ? others.map(([a, r]) => `${a}@${revisionKey(r)}`).join(',') : undefined;
}

function errInfo(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e.code === 'string' ? e.code : 'ERR_INTERNAL', message: typeof e.message === 'string' ? e.message : 'error' };
}

export class Agent {
  readonly status: AgentStatus;
  readonly #d: AgentDeps;
  readonly #state = new Map<string, TargetState>();
  #stopped = false;

  constructor(d: AgentDeps) {
    this.#d = d;
    for (const t of d.config.secrets) this.#state.set(t.name, { version: undefined, bytes: undefined, renders: 0, failures: 0 });
    this.status = { consecutiveFailures: 0, lastSuccessMs: undefined, cycles: 0, targets: this.#state };
  }

  get healthy(): boolean {
    return this.status.lastSuccessMs !== undefined && this.status.consecutiveFailures < this.#d.config.degradedAfter;
  }

  /**
   * Renders every target and writes the files; throws (coded, naming the reference) on the first
   * secret that cannot be fetched or rendered, before any file is written. Transient failures are
   * retried `initAttempts` times with backoff.
   */
  async renderAll(): Promise<void> {
    const { config, log } = this.#d;
    for (let attempt = 0; ; attempt++) {
      try {
        const rendered: [SecretTarget, Uint8Array, Revision, string | undefined][] = [];
        const cache = new Map<string, KvSecret>();
        const read = async (ref: SecretTarget['ref'], display: string, version: number | undefined) => {
          const key = `${ref.mount}/${ref.path}@${version ?? ''}`;
          let s = cache.get(key);
          if (!s) {
            s = await this.#d.session.read(ref, display, version);
            cache.set(key, s);
          }
          return s;
        };
        for (const t of config.secrets) {
          const s = await read(t.ref, t.display, t.version);
          const others: [string, KvSecret][] = [];
          for (const o of t.others) others.push([o.alias, await read(o.ref, o.display, undefined)]);
          rendered.push([t, this.#render(t, withOthers(s, others)), revisionOf(s), stamp(others.map(([a, o]) => [a, revisionOf(o)]))]);
        }
        for (const [t, bytes, rev, o] of rendered) await this.#write(t, bytes, rev, o);
        this.#success();
        return;
      } catch (err) {
        if (!isTransient(err) || attempt + 1 >= config.initAttempts || this.#stopped) throw err;
        const wait = backoffDelay(attempt, 500, 8000);
        log.warn({ code: errInfo(err).code, attempt: attempt + 1, retryInMs: wait }, 'render failed, retrying');
        await this.#d.sleep(wait);
      }
    }
  }

  #render(t: SecretTarget, s: SecretInput): Uint8Array {
    try {
      return t.renderer.render(s);
    } catch (err) {
      const e = errInfo(err);
      throw new ArcaError(isArcaError(err) ? err.code : 'ERR_INTERNAL', `${t.display} (${t.name}): ${e.message}`);
    }
  }

  /** Writes unless the bytes are already there; returns whether the file changed. */
  async #write(t: SecretTarget, bytes: Uint8Array, rev: Revision, others?: string): Promise<boolean> {
    const st = this.#state.get(t.name)!;
    const o = { mode: t.mode, uid: t.uid, gid: t.gid };
    const same = st.bytes !== undefined ? Buffer.from(st.bytes).equals(bytes) : await isCurrent(t.file, bytes, o);
    // State moves only after the file is in place: a failed write is retried at the next cycle.
    if (!same) await writeAtomic(t.file, bytes, o);
    st.version = rev.version;
    st.revision = revisionKey(rev);
    st.others = others;
    st.bytes = bytes;
    if (same) return false;
    st.renders++;
    this.#d.log.info({ target: t.name, path: t.display, version: rev.version, file: t.file }, 'rendered');
    return true;
  }

  #success(): void {
    this.status.consecutiveFailures = 0;
    this.status.lastSuccessMs = this.#d.now();
  }

  /** One sidecar refresh: version check per distinct secret, fetch + render + write only what moved. */
  async cycle(): Promise<string[]> {
    const { config, session } = this.#d;
    this.status.cycles++;
    const changed: string[] = [];
    const versions = new Map<string, Current>();
    // One version check (and at most one read) per distinct secret per cycle, shared by targets.
    const current = async (ref: SecretTarget['ref'], display: string): Promise<Current> => {
      const key = `${ref.mount}/${ref.path}`;
      let cur = versions.get(key);
      if (!cur) {
        cur = await session.currentVersion(ref, display);
        versions.set(key, cur);
      }
      return cur;
    };
    const load = async (cur: Current, ref: SecretTarget['ref'], display: string): Promise<KvSecret> => {
      if (!cur.secret || revisionKey(revisionOf(cur.secret)) !== revisionKey(cur)) cur.secret = await session.read(ref, display, cur.version);
      return cur.secret;
    };
    let failed: unknown;
    for (const t of config.secrets) {
      if (t.version !== undefined) continue; // pinned: rendered once, never changes
      const st = this.#state.get(t.name)!;
      try {
        const cur = await current(t.ref, t.display);
        const otherCur: [string, Current, OtherSecret][] = [];
        for (const o of t.others) otherCur.push([o.alias, await current(o.ref, o.display), o]);
        const otherStamp = stamp(otherCur.map(([a, c]) => [a, c]));
        if (revisionKey(cur) === st.revision && otherStamp === st.others) continue;
        const s = await load(cur, t.ref, t.display);
        const others: [string, KvSecret][] = [];
        for (const [alias, c, o] of otherCur) others.push([alias, await load(c, o.ref, o.display)]);
        if (await this.#write(t, this.#render(t, withOthers(s, others)), cur, otherStamp)) changed.push(t.name);
      } catch (err) {
        st.failures++;
        failed ??= err;
        this.#d.log.warn({ target: t.name, path: t.display, ...errInfo(err) }, 'refresh failed, keeping the last good file');
        if (isTransient(err)) break; // the server is away: the other targets would fail the same way
      }
    }
    if (failed !== undefined) {
      this.status.consecutiveFailures++;
      throw failed;
    }
    this.#success();
    return changed;
  }

  /** The sidecar loop: until stop(), one cycle per interval, sooner retries with backoff after a failure. */
  async run(): Promise<void> {
    const { config, log } = this.#d;
    while (!this.#stopped) {
      let wait = config.interval;
      try {
        const changed = await this.cycle();
        if (changed.length && this.#d.onChange) await this.#d.onChange(changed);
      } catch (err) {
        wait = Math.min(config.interval, backoffDelay(this.status.consecutiveFailures - 1, 1000, config.interval));
        if (this.status.consecutiveFailures === config.degradedAfter) log.error({ failures: this.status.consecutiveFailures, code: errInfo(err).code }, 'degraded: refresh keeps failing');
      }
      if (!this.#stopped) await this.#d.sleep(wait);
    }
  }

  stop(): void {
    this.#stopped = true;
  }
}
