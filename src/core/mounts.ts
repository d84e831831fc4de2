/**
 * The mount table: which engine serves which path prefix. Stored inside the barrier at `sys/mounts`.
 * Each mount's engine sees only `logical/<uuid>/` of the barrier.
 */
import { randomUUID } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import type { Storage } from '../storage/index.ts';

export interface MountEntry {
  path: string; // with trailing '/', e.g. 'secret/', 'auth/token/'
  type: string;
  uuid: string;
  accessor: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
  sealWrap: boolean;
  /** Set by sys/mounts enable or tune; absent = 0 (the system default). Seconds, range-checked by the API. */
  config?: MountConfig;
  /** Auth mounts only: Vault's mount-level `token_type` (absent = `default-service`); core/login-token.ts applies it. */
  tokenType?: MountTokenType;
}

/** Vault's auth-mount `token_type`: a default the roles may override, or a type forced on every login. */
export type MountTokenType = 'default-service' | 'default-batch' | 'service' | 'batch';

/** What a tune (or an enable's config) changes; absent fields stay as they are. */
export interface MountChange {
  config?: MountConfig;
  description?: string;
  tokenType?: MountTokenType;
}
export const MOUNT_TOKEN_TYPES: readonly MountTokenType[] = ['default-service', 'default-batch', 'service', 'batch'];

export interface MountConfig {
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
}

/** Mount table record path inside the barrier. */
export const MOUNTS_PATH = 'sys/mounts';
const RESERVED = ['sys/', 'auth/token/'];

export function normalizeMountPath(p: string): string {
  const s = p.replace(/^\/+/, '').replace(/\/+$/, '');
  if (s === '' || !/^[A-Za-z0-9._\-/]+$/.test(s) || s.split('/').some((x) => x === '' || x === '.' || x === '..')) {
    throw new ArcaError('ERR_INVALID_REQUEST', `invalid mount path "${p}": use letters, digits, '.', '_', '-' and '/' separators`);
  }
  return `${s}/`;
}

export class MountTable {
  #mounts: MountEntry[] = [];
  readonly #s: Storage;

  constructor(storage: Storage) {
    this.#s = storage;
  }

  async load(): Promise<MountEntry[]> {
    const b = await this.#s.get(MOUNTS_PATH);
    this.#mounts = b ? (JSON.parse(new TextDecoder().decode(b)) as MountEntry[]) : [];
    return this.#mounts;
  }

  get all(): readonly MountEntry[] {
    return this.#mounts;
  }

  /** The mount whose path is the longest prefix of `path`. */
  match(path: string): MountEntry | undefined {
    let best: MountEntry | undefined;
    for (const m of this.#mounts) {
      if ((path.startsWith(m.path) || `${path}/` === m.path) && (!best || m.path.length > best.path.length)) best = m;
    }
    return best;
  }

  /** The entry a new mount would be (with the enable's config), checked against the table, changing nothing. */
  planAdd(path: string, type: string, options: Record<string, string> = {}, description = '', change: MountChange = {}): MountEntry {
    const p = normalizeMountPath(path);
    this.#checkFree(p);
    return {
      path: p, type, uuid: randomUUID(), accessor: `${type}_${randomUUID().slice(0, 8)}`, description, options,
      local: false, sealWrap: false,
      ...(change.config ? { config: change.config } : {}),
      ...(change.tokenType !== undefined ? { tokenType: change.tokenType } : {}),
    };
  }

  /** Refuses a path taken by, inside or around another mount (`except`: the one being moved there). */
  #checkFree(p: string, except?: MountEntry): void {
    for (const m of this.#mounts) {
      if (m === except) continue;
      if (m.path === p) throw new ArcaError('ERR_INVALID_REQUEST', `path is already in use at ${p}`);
      if (p.startsWith(m.path) || m.path.startsWith(p)) throw new ArcaError('ERR_INVALID_REQUEST', `path "${p}" conflicts with existing mount "${m.path}"`);
    }
  }

  /** Writes a planned entry into the table (one write; the table in memory changes only once it is stored). */
  async applyAdd(entry: MountEntry): Promise<void> {
    this.#checkFree(entry.path);
    await this.#write([...this.#mounts, entry]);
  }

  async add(path: string, type: string, options: Record<string, string> = {}, description = ''): Promise<MountEntry> {
    const entry = this.planAdd(path, type, options, description);
    await this.applyAdd(entry);
    return entry;
  }

  async #write(all: MountEntry[]): Promise<void> {
    await this.#s.put(MOUNTS_PATH, new TextEncoder().encode(JSON.stringify(all)));
    this.#mounts = all;
  }

  /** Replaces a mount's tunable config (sys/mounts/<path>/tune); false when there is no such mount. */
  async tune(path: string, change: MountChange): Promise<boolean> {
    if (change.config === undefined && change.description === undefined && change.tokenType === undefined) return true;
    const p = normalizeMountPath(path);
    const i = this.#mounts.findIndex((x) => x.path === p);
    const cur = this.#mounts[i];
    if (!cur) return false;
    const next: MountEntry = {
      ...cur,
      ...(change.config ? { config: change.config } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.tokenType !== undefined ? { tokenType: change.tokenType } : {}),
    };
    await this.#write(this.#mounts.map((x, j) => (j === i ? next : x)));
    return true;
  }

  /**
   * Checks a move of a secrets engine's mount to another path (Vault's `sys/remount`) and answers the
   * entry it would become, changing nothing. Its data stays where it is (`logical/<uuid>/`), so a move
   * only changes the table. Auth methods are not moved: the tokens they issued are recorded under their path.
   */
  planMove(from: string, to: string): { from: string; moved: MountEntry } {
    const f = normalizeMountPath(from);
    const t = normalizeMountPath(to);
    if (f.startsWith('auth/') || t.startsWith('auth/')) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'auth methods cannot be moved: the tokens they issued are recorded under their path; enable the method at the new path and copy its config and roles');
    }
    if ([...RESERVED, 'identity/'].includes(f)) throw new ArcaError('ERR_INVALID_REQUEST', `cannot remount "${f}"`);
    const cur = this.#mounts.find((x) => x.path === f);
    if (!cur) throw new ArcaError('ERR_INVALID_REQUEST', `no secret engine mount at ${f}`);
    this.#checkFree(t, cur);
    if (t === f || t.startsWith(f) || f.startsWith(t)) throw new ArcaError('ERR_INVALID_REQUEST', `cannot move "${f}" to "${t}": one path contains the other`);
    return { from: f, moved: { ...cur, path: t } };
  }

  /** Writes a planned move (the entry with this uuid takes its new path); false if the table changed since. */
  async applyMove(plan: { from: string; moved: MountEntry }): Promise<boolean> {
    const i = this.#mounts.findIndex((x) => x.path === plan.from && x.uuid === plan.moved.uuid);
    if (i < 0) return false;
    // A mount enabled at, inside or around the target meanwhile: the table changed.
    try {
      this.#checkFree(plan.moved.path, this.#mounts[i]);
    } catch {
      return false;
    }
    await this.#write(this.#mounts.map((x, j) => (j === i ? plan.moved : x)));
    return true;
  }

  /** The entry an unmount of `path` would remove (undefined: none there), checked, changing nothing. */
  planRemove(path: string): MountEntry | undefined {
    const p = normalizeMountPath(path);
    if (RESERVED.includes(p)) throw new ArcaError('ERR_INVALID_REQUEST', `cannot unmount "${p}"`);
    return this.#mounts.find((x) => x.path === p);
  }

  async remove(path: string): Promise<MountEntry | undefined> {
    const m = this.planRemove(path);
    if (m) await this.#write(this.#mounts.filter((x) => x !== m));
    return m;
  }
}
