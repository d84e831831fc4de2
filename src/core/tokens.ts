/**
 * Token store (Vault's token model). Tokens are never stored: the store keeps HMAC-SHA256(salt, token)
 * as the entry id, so a storage dump cannot be replayed. Accessors are random handles that are safe
 * to show and log. Children are indexed under their parent and revoked with it.
 *
 * Storage (inside the barrier, under `sys/token/`):
 *   salt                   random 32-byte HMAC salt (created on first use)
 *   id/<hmac>              TokenEntry JSON
 *   accessor/<accessor>    <hmac>
 *   parent/<hmac>/<child>  '' (child index)
 *
 * Expired tokens are revoked by `sweepExpired` (the core's maintenance, on the active replica), as
 * Vault's expiration manager revokes a token at its expiry: otherwise every login would leave its
 * entry and index entries in storage for good (a fleet of agents logs in all day).
 *
 * Limited-use tokens: a use is spent by compare-and-set on `id/<hmac>` before the request runs, so
 * it holds across processes sharing the storage (HA replicas on one PostgreSQL) and a refused
 * request changes nothing. The last use marks the entry `pendingRevocation` (no lookup serves it
 * any more) and the core revokes it once that last request is done, as Vault does.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { toAccessor } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { type ReadOptions, type Storage, scanKeys } from '../storage/index.ts';
import { type BatchDeps, isBatchToken, openBatch, sealBatch } from './batch-tokens.ts';
import { lifetime, MAX_DURATION_SECONDS, MAX_EXPIRE_AT, MAX_NUM_USES, SYSTEM_MAX_TTL, sane } from './token-ttl.ts';

export interface TokenEntry {
  id: string; // HMAC of the token, never the token
  accessor: string;
  policies: string[];
  parent: string; // HMAC id of the parent, '' for orphans
  displayName: string;
  meta: Record<string, string>;
  createdAt: number; // unix seconds
  /** Unix seconds; 0 = never expires (root). */
  expireAt: number;
  ttl: number;
  explicitMaxTtl: number;
  /** Periodic token: each renewal resets the TTL to this (seconds); 0 = not periodic. */
  period: number;
  renewable: boolean;
  /** Remaining uses; 0 = unlimited. */
  numUses: number;
  path: string;
  orphan: boolean;
  /** The last use is spent: served to no new request, revoked when the request that spent it ends. */
  pendingRevocation?: boolean;
  /** Identity entity the token acts for (auth-method logins; inherited by child tokens). */
  entityId?: string;
  /** Unix seconds of the MFA login that issued this token (not inherited: step-up is per token). */
  mfaAt?: number;
  /** A batch token (batch-tokens.ts): never stored; id and accessor are ''. Absent = service. */
  type?: 'batch';
  /** Batch tokens from a login: the issuing auth mount's accessor (disabling the mount ends the token). */
  mountAccessor?: string;
  /** `token_bound_cidrs`: the token is refused from any other client address (engines/cidr.ts). */
  boundCidrs?: string[];
}

export interface CreateTokenOptions {
  policies: string[];
  parent?: TokenEntry | undefined;
  displayName?: string;
  meta?: Record<string, string>;
  ttl?: number;
  explicitMaxTtl?: number;
  period?: number;
  renewable?: boolean;
  numUses?: number;
  path?: string;
  noParent?: boolean;
  /** Use this token value (dev root token); otherwise a random one. */
  id?: string;
  /** Identity entity; defaults to the parent's (Vault: a child acts for its parent's entity). */
  entityId?: string | undefined;
  mfaAt?: number | undefined;
  /**
   * Write the new token with relaxed durability (Storage.commit): a power loss right after may
   * forget it, and its holder logs in again. For tokens a login issues; never for root tokens.
   */
  relaxed?: boolean;
  /** Issue a batch token (batch-tokens.ts): nothing is written. Refused with uses, a period, a custom id or root. */
  batch?: boolean;
  /** The auth mount whose login issues the token (kept in batch tokens; stored ones are found by path). */
  mountAccessor?: string;
  /** Client addresses the token may be used from; a child inherits its parent's (Vault does the same). */
  boundCidrs?: string[] | undefined;
}

const TOKEN_PREFIX = 'hvs.';
/** Random bytes in a service token's value. */
const TOKEN_RANDOM_BYTES = 24;
/** Length of the service tokens Arca mints: the prefix and the base64url of the random bytes. */
export const SERVICE_TOKEN_LENGTH = TOKEN_PREFIX.length + Math.ceil((TOKEN_RANDOM_BYTES * 4) / 3);
const enc = new TextEncoder();
const dec = new TextDecoder();
/** The sweep's reads: one-off, not kept in the barrier's cache (see #stored). */
const UNCACHED: ReadOptions = Object.freeze({ uncached: true });

/** Live entries kept in memory, so a request costs no storage read, decrypt or HMAC for its token. */
const CACHE_MAX = 10_000;
/** Parent chains deeper than this are treated as broken (a cycle could only come from a corrupt store). */
const MAX_CHAIN = 256;
/** Compare-and-set attempts before giving up; each failure means another writer made progress. */
const CAS_ATTEMPTS = 64;

const invalid = () => new ArcaError('ERR_TOKEN_INVALID', '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');

/** Parses a stored entry; numbers are made sane so a record the API once accepted always loads. */
function parseEntry(b: Uint8Array): TokenEntry {
  const e = JSON.parse(dec.decode(b)) as TokenEntry;
  e.createdAt = sane(e.createdAt, MAX_EXPIRE_AT);
  e.expireAt = sane(e.expireAt, MAX_EXPIRE_AT);
  e.ttl = sane(e.ttl, MAX_DURATION_SECONDS);
  e.explicitMaxTtl = sane(e.explicitMaxTtl, MAX_DURATION_SECONDS);
  e.period = sane(e.period, MAX_DURATION_SECONDS);
  // Before range checks, a negative num_uses was stored and meant unlimited; keep that meaning.
  e.numUses = sane(e.numUses, MAX_NUM_USES);
  return e;
}

/** Vault's answer: a batch token ends at its expiry or with its parent, never on request. */
function notBatch(e: TokenEntry): void {
  if (e.type === 'batch') throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot be revoked');
}

/**
 * What a new token of either kind takes from the options, else from its parent: the identity entity
 * (from the creating token even for an orphan, as before batch tokens), the MFA time (never
 * inherited: step-up is per token) and the bound CIDRs (an orphan inherits none, as in Vault).
 */
function withInherited(e: TokenEntry, o: CreateTokenOptions, parent: TokenEntry | undefined): void {
  const entityId = o.entityId ?? o.parent?.entityId;
  if (entityId) e.entityId = entityId;
  if (o.mfaAt) e.mfaAt = o.mfaAt;
  const cidrs = o.boundCidrs?.length ? o.boundCidrs : parent?.boundCidrs;
  if (cidrs?.length) e.boundCidrs = [...cidrs];
}

const encodeEntry = (e: TokenEntry) => enc.encode(JSON.stringify(e));
const hmacId = (salt: Buffer, token: string) => createHmac('sha256', salt).update(token).digest('hex');

export class TokenStore {
  readonly #s: Storage;
  readonly #now: () => number;
  readonly #maxTtl: number;
  /** Seals batch tokens (the barrier) and knows the live auth mounts; without it, batch tokens are refused. */
  readonly #batch: BatchDeps | undefined;
  #salt: Buffer | undefined;
  /**
   * token → entry for unlimited-use tokens. Every change to a token goes through this store, which
   * drops the cached entry first; expiry is checked on every hit. With HA, a replica gets a fresh
   * store when it becomes active, so nothing another replica revoked is served from here.
   */
  readonly #cache = new Map<string, TokenEntry>();
  /** id → token for the cached entries, so dropping one by id (every revocation) is one lookup. */
  readonly #cachedToken = new Map<string, string>();
  /** Per-token queue: uses and renewals of one token in this process run one at a time. */
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Ids whose last use a request of this process holds (see pendingRevocation). */
  readonly #inflight = new Set<string>();

  constructor(storage: Storage, now: () => number = Date.now, maxTtl = SYSTEM_MAX_TTL, batch?: BatchDeps) {
    this.#s = storage;
    this.#now = now;
    this.#maxTtl = maxTtl;
    this.#batch = batch;
  }

  async #hash(token: string): Promise<string> {
    if (!this.#salt) {
      let salt = await this.#s.get('salt');
      if (!salt) {
        const fresh = randomBytes(32);
        if (!(await this.#s.putIf('salt', fresh, undefined))) salt = await this.#s.get('salt');
        else salt = fresh;
      }
      this.#salt = Buffer.from(salt!);
    }
    return hmacId(this.#salt, token);
  }

  #nowSec(): number {
    return Math.floor(this.#now() / 1000);
  }

  async #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#locks.get(id) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    }
  }

  async create(o: CreateTokenOptions): Promise<{ token: string; entry: TokenEntry; capped: boolean }> {
    const parent = o.noParent ? undefined : o.parent;
    if (parent?.type === 'batch') throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot create more tokens');
    if (parent && (parent.numUses > 0 || parent.pendingRevocation)) throw new ArcaError('ERR_INVALID_REQUEST', 'restricted use token cannot generate child tokens');
    for (const [name, v, max] of [['ttl', o.ttl, MAX_DURATION_SECONDS], ['explicit_max_ttl', o.explicitMaxTtl, MAX_DURATION_SECONDS], ['period', o.period, MAX_DURATION_SECONDS], ['num_uses', o.numUses, MAX_NUM_USES]] as const) {
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0 && v <= max)) throw new ArcaError('ERR_INVALID_REQUEST', `${name} must be an integer from 0 to ${max}`);
    }
    if (o.batch) return this.#createBatch(o, parent);
    // Lookups read an hvb. token as a sealed batch token, never as a stored id.
    if (o.id !== undefined && isBatchToken(o.id)) throw new ArcaError('ERR_INVALID_REQUEST', 'a token id cannot start with "hvb." (the batch-token prefix): choose another root token id');
    // One CSPRNG call for the token and its accessor: a call costs as much as both draws' bytes
    // (profiled: the two calls were 7% of a login's CPU). Nothing is pooled beyond this token.
    const random = randomBytes(o.id === undefined ? 18 + TOKEN_RANDOM_BYTES : 18);
    const token = o.id ?? TOKEN_PREFIX + random.subarray(18).toString('base64url');
    // Once the salt is loaded the HMAC needs no await (each is a microtask hop per login).
    const id = this.#salt ? hmacId(this.#salt, token) : await this.#hash(token);
    const now = this.#nowSec();
    const policies = [...new Set(o.policies)].sort();
    const life = lifetime({
      now, createdAt: now, ttl: o.ttl ?? 0, period: o.period ?? 0, explicitMaxTtl: o.explicitMaxTtl ?? 0,
      root: policies.includes('root'), parentExpireAt: parent?.expireAt, maxTtl: this.#maxTtl,
    });
    if (parent && life.expireAt !== 0 && life.expireAt <= now) throw invalid();
    const entry: TokenEntry = {
      id,
      accessor: toAccessor(random.subarray(0, 18)),
      policies,
      parent: parent?.id ?? '',
      displayName: o.displayName ?? 'token',
      meta: o.meta ?? {},
      createdAt: now,
      expireAt: life.expireAt,
      ttl: life.ttl,
      explicitMaxTtl: o.explicitMaxTtl ?? 0,
      period: o.period ?? 0,
      renewable: (o.renewable ?? true) && life.expireAt > 0,
      numUses: o.numUses ?? 0,
      path: o.path ?? 'auth/token/create',
      orphan: parent === undefined,
    };
    withInherited(entry, o, parent);
    const puts: [string, Uint8Array][] = [[`id/${id}`, encodeEntry(entry)], [`accessor/${entry.accessor}`, enc.encode(id)]];
    if (parent) puts.push([`parent/${parent.id}/${id}`, new Uint8Array(0)]);
    if (!(await this.#s.commit({ puts, expect: [[`id/${id}`, undefined]], durability: o.relaxed ? 'relaxed' : undefined }))) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'a token with this id already exists');
    }
    return { token, entry, capped: life.capped };
  }

  /** Vault's rules for batch tokens (token_store.go), then the sealed entry as the token: no write. */
  #createBatch(o: CreateTokenOptions, parent: TokenEntry | undefined): { token: string; entry: TokenEntry; capped: boolean } {
    if (!this.#batch) throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens are not available on this server');
    const bad = o.id !== undefined ? 'id' : o.numUses ? 'num_uses' : o.period ? 'period' : undefined;
    if (bad) throw new ArcaError('ERR_INVALID_REQUEST', `batch tokens cannot have "${bad}" set`);
    const policies = [...new Set(o.policies)].sort();
    if (policies.includes('root')) throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot be root tokens');
    const now = this.#nowSec();
    const life = lifetime({
      now, createdAt: now, ttl: o.ttl ?? 0, period: 0, explicitMaxTtl: o.explicitMaxTtl ?? 0,
      root: false, parentExpireAt: parent?.expireAt, maxTtl: this.#maxTtl,
    });
    if (life.expireAt <= now) throw invalid();
    const entry: TokenEntry = {
      id: '', accessor: '', policies, parent: parent?.id ?? '', displayName: o.displayName ?? 'token', meta: o.meta ?? {},
      createdAt: now, expireAt: life.expireAt, ttl: life.ttl, explicitMaxTtl: o.explicitMaxTtl ?? 0, period: 0,
      renewable: false, numUses: 0, path: o.path ?? 'auth/token/create', orphan: parent === undefined, type: 'batch',
    };
    withInherited(entry, o, parent);
    if (o.mountAccessor) entry.mountAccessor = o.mountAccessor;
    return { token: sealBatch(this.#batch.sealer, entry), entry, capped: life.capped };
  }

  /**
   * A batch token's live entry. Orphans are cached like service tokens (nothing can revoke them);
   * a child is opened on every use, so its parent's revocation or shorter life takes effect at once.
   */
  async #lookupBatch(token: string): Promise<TokenEntry | undefined> {
    const hit = this.cached(token);
    if (hit) return hit;
    const opened = this.#batch && openBatch(this.#batch.sealer, token);
    // Its auth mount was disabled (and maybe enabled again, with a new accessor): logged out.
    if (opened?.mountAccessor && !this.#batch!.mountLive(opened.mountAccessor)) return undefined;
    const e = opened && (await this.#live(opened, false));
    if (e?.orphan) this.#cacheEntry(token, e);
    return e;
  }

  #cacheEntry(token: string, e: TokenEntry): void {
    if (this.#cache.size >= CACHE_MAX) this.#uncache(this.#cache.keys().next().value!);
    this.#cache.set(token, e);
    if (e.id) this.#cachedToken.set(e.id, token);
  }

  async #read(id: string, opts?: ReadOptions): Promise<{ raw: Uint8Array; entry: TokenEntry } | undefined> {
    const raw = await this.#s.get(`id/${id}`, opts);
    return raw ? { raw, entry: parseEntry(raw) } : undefined;
  }

  /**
   * The entry as it may be served: undefined if it, or any ancestor, is expired, revoked or gone
   * (dead ones are revoked on the way, with their subtrees). The expiry is clamped to the ancestors',
   * so a cached child can never outlive a parent, even one stored before children were capped.
   */
  async #live(e: TokenEntry, allowPending: boolean, depth = 0): Promise<TokenEntry | undefined> {
    // A batch token is not stored: it just stops being served (nothing to revoke).
    if (e.expireAt > 0 && e.expireAt <= this.#nowSec()) {
      if (e.type !== 'batch') await this.revoke(e);
      return undefined;
    }
    if (e.pendingRevocation && !allowPending) {
      // Spent by a request still running here, or left behind by a crash: revoke only the latter.
      if (!this.#inflight.has(e.id)) await this.revoke(e);
      return undefined;
    }
    if (!e.parent) return e;
    const p = depth < MAX_CHAIN ? await this.#read(e.parent) : undefined;
    const parent = p && (await this.#live(p.entry, true, depth + 1));
    if (!parent) {
      // The parent is gone (its revocation was interrupted): the child goes with it.
      if (e.type !== 'batch') await this.revoke(e);
      return undefined;
    }
    if (parent.expireAt > 0 && (e.expireAt === 0 || e.expireAt > parent.expireAt)) return { ...e, expireAt: parent.expireAt };
    return e;
  }

  async #byId(id: string, allowPending = false): Promise<TokenEntry | undefined> {
    const r = await this.#read(id);
    return r ? this.#live(r.entry, allowPending) : undefined;
  }

  /** The live entry for a token, or undefined (unknown, expired, revoked or spent). */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    if (typeof token !== 'string' || token.length === 0) return undefined;
    if (isBatchToken(token)) return this.#lookupBatch(token);
    if (token.length > 512) return undefined;
    const hit = this.cached(token);
    if (hit) return hit;
    const e = await this.#byId(await this.#hash(token));
    if (e && e.numUses === 0) this.#cacheEntry(token, e);
    return e;
  }

  #uncache(token: string): void {
    const e = this.#cache.get(token);
    if (!e) return;
    this.#cache.delete(token);
    this.#cachedToken.delete(e.id);
  }

  /** The cached live entry for a token (no storage read, no await), or undefined: then call `lookup`. */
  cached(token: string): TokenEntry | undefined {
    const hit = this.#cache.get(token);
    if (!hit) return undefined;
    if (hit.expireAt === 0 || hit.expireAt > this.#nowSec()) return hit;
    this.#uncache(token);
    return undefined;
  }

  #forget(id: string): void {
    const token = this.#cachedToken.get(id);
    if (token !== undefined) this.#uncache(token);
  }

  /** `allowPending`: also the token whose last use the current request holds (its own `*-self` calls). */
  async lookupAccessor(accessor: string, allowPending = false): Promise<TokenEntry | undefined> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(accessor)) return undefined;
    const id = await this.#s.get(`accessor/${accessor}`);
    return id ? this.#byId(dec.decode(id), allowPending) : undefined;
  }

  /**
   * Spends one use of a limited-use token, atomically (compare-and-set on its stored entry), before the
   * request it authorizes runs. Throws ERR_TOKEN_INVALID when no use is left; nothing is changed then.
   * Returns the entry after the use; call `release` with it when the request is done.
   */
  async consume(e: TokenEntry): Promise<TokenEntry> {
    if (e.numUses === 0 && !e.pendingRevocation) return e;
    return this.#serial(e.id, async () => {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const cur = await this.#read(e.id);
        const live = cur && (await this.#live(cur.entry, false));
        if (!cur || !live || live.numUses === 0) throw invalid();
        const next: TokenEntry = live.numUses === 1 ? { ...cur.entry, numUses: 0, pendingRevocation: true } : { ...cur.entry, numUses: live.numUses - 1 };
        if (next.pendingRevocation) this.#inflight.add(e.id);
        if (await this.#s.putIf(`id/${e.id}`, encodeEntry(next), cur.raw)) return next;
        this.#inflight.delete(e.id);
      }
      throw new ArcaError('ERR_STORAGE_CONFLICT', 'the token is being used concurrently; retry');
    });
  }

  /** Ends a request that `consume` authorized: revokes the token if that request spent its last use. */
  async release(e: TokenEntry): Promise<void> {
    if (!e.pendingRevocation) return;
    try {
      await this.revoke(e);
    } finally {
      this.#inflight.delete(e.id);
    }
  }

  /**
   * Renews a token: the TTL becomes `increment` (or the previous TTL), a periodic token's its period,
   * within the system max from creation, `explicit_max_ttl` and the parent's expiry. A renewal that
   * shortens the token's life shortens its children's with it.
   */
  async renew(e: TokenEntry, increment?: number): Promise<{ entry: TokenEntry; capped: boolean }> {
    if (e.type === 'batch') throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot be renewed');
    return this.#serial(e.id, async () => {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const cur = await this.#read(e.id);
        const live = cur && (await this.#live(cur.entry, true));
        if (!cur || !live) throw new ArcaError('ERR_INVALID_REQUEST', 'token not found');
        if (!live.renewable || live.expireAt === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'lease is not renewable');
        const parent = live.parent ? await this.#byId(live.parent, true) : undefined;
        if (live.parent && !parent) throw new ArcaError('ERR_INVALID_REQUEST', 'token not found');
        const now = this.#nowSec();
        const life = lifetime({
          now, createdAt: live.createdAt, ttl: increment && increment > 0 ? increment : live.ttl, period: live.period,
          explicitMaxTtl: live.explicitMaxTtl, root: false, parentExpireAt: parent?.expireAt, maxTtl: this.#maxTtl,
        });
        if (life.expireAt <= now) throw new ArcaError('ERR_INVALID_REQUEST', 'past the max TTL, cannot renew');
        const updated: TokenEntry = { ...cur.entry, expireAt: life.expireAt, ttl: life.ttl };
        this.#forget(e.id);
        if (!(await this.#s.putIf(`id/${e.id}`, encodeEntry(updated), cur.raw))) continue;
        if (cur.entry.expireAt === 0 || life.expireAt < cur.entry.expireAt) await this.#capChildren(e.id, life.expireAt, 0);
        return { entry: updated, capped: life.capped };
      }
      throw new ArcaError('ERR_STORAGE_CONFLICT', 'the token is being renewed concurrently; retry');
    });
  }

  /** Keeps every descendant's expiry at or before `expireAt` (after a parent's life got shorter). */
  async #capChildren(id: string, expireAt: number, depth: number): Promise<void> {
    if (depth >= MAX_CHAIN) return;
    for (const child of await this.#s.list(`parent/${id}/`)) {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const c = await this.#read(child);
        if (!c || (c.entry.expireAt !== 0 && c.entry.expireAt <= expireAt)) break;
        this.#forget(child);
        const capped = { ...c.entry, expireAt, ttl: Math.max(0, expireAt - this.#nowSec()) };
        if (await this.#s.putIf(`id/${child}`, encodeEntry(capped), c.raw)) break;
      }
      await this.#capChildren(child, expireAt, depth + 1);
    }
  }

  /** Revokes a token and, recursively, every child (children first, so none is left parentless). */
  async revoke(e: TokenEntry): Promise<void> {
    notBatch(e);
    this.#forget(e.id);
    for (const child of await this.#s.list(`parent/${e.id}/`)) {
      const c = await this.#read(child);
      if (c) await this.revoke(c.entry);
      await this.#s.delete(`parent/${e.id}/${child}`);
    }
    // One commit: the entry, its accessor and its place in the parent's index go together.
    const deletes = [`accessor/${e.accessor}`, `id/${e.id}`];
    if (e.parent) deletes.push(`parent/${e.parent}/${e.id}`);
    await this.#s.commit({ deletes });
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(e: TokenEntry): Promise<void> {
    notBatch(e);
    this.#forget(e.id);
    // One commit: the children made orphans, the parent index, the entry and its accessor, so a
    // failure leaves the token and its children as they were.
    const puts: [string, Uint8Array][] = [];
    const deletes = [`accessor/${e.accessor}`, `id/${e.id}`];
    if (e.parent) deletes.push(`parent/${e.parent}/${e.id}`);
    for (const child of await this.#s.list(`parent/${e.id}/`)) {
      const c = await this.#read(child);
      if (c) {
        this.#forget(child);
        puts.push([`id/${child}`, encodeEntry({ ...c.entry, parent: '', orphan: true })]);
      }
      deletes.push(`parent/${e.id}/${child}`);
    }
    await this.#s.commit({ puts, deletes });
  }

  /**
   * Logs out everyone an auth mount logged in, when it is disabled (Vault does the same): revokes every
   * stored token issued under `pathPrefix` (e.g. `auth/kubernetes/`), with its children, and drops the
   * cached batch tokens from there (their mount accessor no longer resolves, so none is served again).
   * One read per stored token, as the expiry sweep. Answers how many tokens it revoked.
   */
  async revokeIssuedUnder(pathPrefix: string): Promise<number> {
    for (const [token, e] of [...this.#cache]) if (e.type === 'batch' && e.path.startsWith(pathPrefix)) this.#uncache(token);
    let revoked = 0;
    for await (const e of this.#stored()) {
      if (!e.path.startsWith(pathPrefix)) continue;
      await this.revoke(e);
      revoked++;
    }
    return revoked;
  }

  async accessors(): Promise<string[]> {
    return this.#s.list('accessor/');
  }

  /**
   * Revokes every token that can no longer be served, with its children and index entries: expired
   * ones, children whose parent is gone (an interrupted revocation) and spent limited-use tokens a
   * crash left behind (not those a request of this process still holds). The same rules as a
   * lookup (#live), applied to every stored entry: one read per token, giving the event loop turns.
   * Answers how many tokens it revoked (a child revoked along with its parent is not counted) and
   * how many it found stored (revoked ones included).
   */
  async sweepExpired(): Promise<{ revoked: number; scanned: number }> {
    let revoked = 0;
    let scanned = 0;
    for await (const e of this.#stored()) {
      scanned++;
      if (await this.#live(e, false)) continue;
      if ((await this.#s.get(`id/${e.id}`, UNCACHED)) === undefined) revoked++;
    }
    return { revoked, scanned };
  }

  /**
   * Every stored entry, one read each, giving the event loop turns (entries revoked meanwhile are
   * skipped). The reads are not kept in the barrier's cache: a sweep over more tokens than it holds
   * would otherwise push out every hot entry (policies, mounts, KV) once a minute.
   */
  async *#stored(): AsyncGenerator<TokenEntry> {
    for await (const id of scanKeys(this.#s, 'id/')) {
      const r = await this.#read(id, UNCACHED);
      if (r) yield r.entry;
    }
  }
}
