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
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import type { Storage } from '../storage/index.ts';

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
  period: number;
  renewable: boolean;
  /** Remaining uses; 0 = unlimited. */
  numUses: number;
  path: string;
  orphan: boolean;
}

export interface CreateTokenOptions {
  policies: string[];
  parent?: TokenEntry | undefined;
  displayName?: string;
  meta?: Record<string, string>;
  ttl?: number;
  explicitMaxTtl?: number;
  renewable?: boolean;
  numUses?: number;
  path?: string;
  noParent?: boolean;
  /** Use this token value (dev root token); otherwise a random one. */
  id?: string;
}

const TOKEN_PREFIX = 'hvs.';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Live entries kept in memory, so a request costs no storage read, decrypt or HMAC for its token. */
const CACHE_MAX = 10_000;

export class TokenStore {
  readonly #s: Storage;
  readonly #now: () => number;
  #salt: Buffer | undefined;
  /**
   * token → entry for unlimited-use tokens. Every change to a token goes through this store, which
   * drops the cached entry first; expiry is checked on every hit. With HA, a replica gets a fresh
   * store when it becomes active, so nothing another replica revoked is served from here.
   */
  readonly #cache = new Map<string, TokenEntry>();

  constructor(storage: Storage, now: () => number = Date.now) {
    this.#s = storage;
    this.#now = now;
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
    return createHmac('sha256', this.#salt).update(token).digest('hex');
  }

  #nowSec(): number {
    return Math.floor(this.#now() / 1000);
  }

  async create(o: CreateTokenOptions): Promise<{ token: string; entry: TokenEntry }> {
    const token = o.id ?? TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const id = await this.#hash(token);
    const now = this.#nowSec();
    const ttl = o.ttl ?? 0;
    const maxTtl = o.explicitMaxTtl ?? 0;
    const effective = ttl > 0 && maxTtl > 0 ? Math.min(ttl, maxTtl) : ttl || maxTtl;
    const parent = o.noParent ? undefined : o.parent;
    const entry: TokenEntry = {
      id,
      accessor: randomBytes(18).toString('base64url'),
      policies: [...new Set(o.policies)].sort(),
      parent: parent?.id ?? '',
      displayName: o.displayName ?? 'token',
      meta: o.meta ?? {},
      createdAt: now,
      expireAt: effective > 0 ? now + effective : 0,
      ttl: effective,
      explicitMaxTtl: maxTtl,
      period: 0,
      renewable: o.renewable ?? effective > 0,
      numUses: o.numUses ?? 0,
      path: o.path ?? 'auth/token/create',
      orphan: parent === undefined,
    };
    if (parent && parent.expireAt > 0 && (entry.expireAt === 0 || entry.expireAt > parent.expireAt)) {
      // A child never outlives its parent.
      entry.expireAt = parent.expireAt;
      entry.ttl = Math.max(0, parent.expireAt - now);
    }
    await this.#s.put(`id/${id}`, enc.encode(JSON.stringify(entry)));
    await this.#s.put(`accessor/${entry.accessor}`, enc.encode(id));
    if (parent) await this.#s.put(`parent/${parent.id}/${id}`, new Uint8Array(0));
    return { token, entry };
  }

  async #byId(id: string): Promise<TokenEntry | undefined> {
    const b = await this.#s.get(`id/${id}`);
    if (!b) return undefined;
    const e = JSON.parse(dec.decode(b)) as TokenEntry;
    if (e.expireAt > 0 && e.expireAt <= this.#nowSec()) {
      await this.revoke(e);
      return undefined;
    }
    return e;
  }

  /** The live entry for a token, or undefined (unknown, expired or revoked). */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
    const hit = this.#cache.get(token);
    if (hit) {
      if (hit.expireAt === 0 || hit.expireAt > this.#nowSec()) return hit;
      this.#cache.delete(token);
    }
    const e = await this.#byId(await this.#hash(token));
    if (e && e.numUses === 0) {
      if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(token, e);
    }
    return e;
  }

  #forget(id: string): void {
    for (const [t, e] of this.#cache) if (e.id === id) this.#cache.delete(t);
  }

  async lookupAccessor(accessor: string): Promise<TokenEntry | undefined> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(accessor)) return undefined;
    const id = await this.#s.get(`accessor/${accessor}`);
    return id ? this.#byId(dec.decode(id)) : undefined;
  }

  /** Spends one use of a limited-use token; revokes it when the last use is spent. */
  async use(e: TokenEntry): Promise<void> {
    if (e.numUses <= 0) return;
    if (e.numUses === 1) {
      await this.revoke(e);
      return;
    }
    const updated = { ...e, numUses: e.numUses - 1 };
    const ok = await this.#s.putIf(`id/${e.id}`, enc.encode(JSON.stringify(updated)), enc.encode(JSON.stringify(e)));
    if (!ok) throw new ArcaError('ERR_TOKEN_INVALID', 'permission denied');
  }

  async renew(e: TokenEntry, increment?: number): Promise<TokenEntry> {
    if (!e.renewable || e.expireAt === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'token not renewable');
    const now = this.#nowSec();
    let ttl = increment && increment > 0 ? increment : e.ttl;
    if (e.explicitMaxTtl > 0) ttl = Math.min(ttl, e.createdAt + e.explicitMaxTtl - now);
    const updated = { ...e, expireAt: now + Math.max(ttl, 0), ttl: Math.max(ttl, 0) };
    this.#forget(e.id);
    await this.#s.put(`id/${e.id}`, enc.encode(JSON.stringify(updated)));
    return updated;
  }

  /** Revokes a token and, recursively, every child. */
  async revoke(e: TokenEntry): Promise<void> {
    this.#forget(e.id);
    for (const child of await this.#s.list(`parent/${e.id}/`)) {
      const c = await this.#s.get(`id/${child}`);
      if (c) await this.revoke(JSON.parse(dec.decode(c)) as TokenEntry);
      await this.#s.delete(`parent/${e.id}/${child}`);
    }
    await this.#s.delete(`accessor/${e.accessor}`);
    await this.#s.delete(`id/${e.id}`);
    if (e.parent) await this.#s.delete(`parent/${e.parent}/${e.id}`);
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(e: TokenEntry): Promise<void> {
    this.#forget(e.id);
    for (const child of await this.#s.list(`parent/${e.id}/`)) {
      const c = await this.#s.get(`id/${child}`);
      if (c) {
        const ce = JSON.parse(dec.decode(c)) as TokenEntry;
        this.#forget(ce.id);
        await this.#s.put(`id/${child}`, enc.encode(JSON.stringify({ ...ce, parent: '', orphan: true })));
      }
      await this.#s.delete(`parent/${e.id}/${child}`);
    }
    await this.#s.delete(`accessor/${e.accessor}`);
    await this.#s.delete(`id/${e.id}`);
  }

  async accessors(): Promise<string[]> {
    return this.#s.list('accessor/');
  }
}
