/**
 * Response-wrapping tokens (Vault's `sys/wrapping/*`): a response, or a control-group request, held
 * inside the barrier behind a single-use token. Storage under `sys/wrapping/`:
 *   token/<sha256(token)>   WrapEntry JSON (the token itself is never stored; it carries 192 random
 *                           bits, so an unsalted hash cannot be reversed)
 *   accessor/<accessor>     <sha256(token)>
 * Spending is a compare-and-delete, so two concurrent unwraps cannot both succeed. An expired token
 * is deleted with what it wraps when it is next presented, or by `sweepExpired` (the core's
 * maintenance), so a response nobody unwrapped does not stay in storage past its TTL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { toAccessor } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { type ReadOptions, type Storage, scanKeys } from '../storage/index.ts';

export interface WrapEntry {
  accessor: string;
  creationTime: number; // ms
  ttl: number; // s
  creationPath: string;
  kind: 'response' | 'control-group';
  /** The wrapped response (kind = response). */
  response?: { data?: unknown; auth?: unknown; warnings?: unknown };
  /** Who may unwrap a control-group request: the requester's entity (or token accessor without one). */
  requesterEntity?: string;
  requesterAccessor?: string;
}

/** Longest TTL a caller may ask for in X-Vault-Wrap-TTL (Vault's system max, 32 days). */
export const MAX_WRAP_TTL = 32 * 86400;

const enc = new TextEncoder();
const dec = new TextDecoder();
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
export const wrappingInvalid = () => new ArcaError('ERR_WRAPPING_INVALID', 'wrapping token is not valid or does not exist');

export class WrapStore {
  readonly #s: () => Storage;
  readonly #now: () => number;

  constructor(storage: () => Storage, now: () => number) {
    this.#s = storage;
    this.#now = now;
  }

  async create(e: Omit<WrapEntry, 'accessor' | 'creationTime'>): Promise<{ token: string; entry: WrapEntry; info: Record<string, unknown> }> {
    const m = this.#mint(e);
    await this.#s().commit({ puts: m.puts, expect: [[m.puts[0][0], undefined]] });
    return m.out;
  }

  /**
   * Vault's rewrap: the same response under a new token with the same TTL and creation path. One
   * commit spends the old token and stores the new one, so a failure leaves the old one valid.
   */
  async rewrap(token: unknown): Promise<{ token: string; entry: WrapEntry; info: Record<string, unknown> }> {
    const r = await this.#read(token);
    if (!r) throw wrappingInvalid();
    const { ttl, creationPath, kind, response } = r.entry;
    const m = this.#mint({ ttl, creationPath, kind, ...(response ? { response } : {}) });
    const ok = await this.#s().commit({ puts: m.puts, deletes: [r.key, `accessor/${r.entry.accessor}`], expect: [[r.key, r.raw], [m.puts[0][0], undefined]] });
    if (!ok) throw wrappingInvalid();
    return m.out;
  }

  /** A new token for `e`: the records to store and what the caller answers. */
  #mint(e: Omit<WrapEntry, 'accessor' | 'creationTime'>) {
    if (!Number.isSafeInteger(e.ttl) || e.ttl < 1 || e.ttl > MAX_WRAP_TTL) throw new ArcaError('ERR_FIELD_OUT_OF_RANGE', `wrap TTL must be from 1 to ${MAX_WRAP_TTL} seconds`);
    const token = `hvs.${randomBytes(24).toString('base64url')}`;
    const entry: WrapEntry = { ...e, accessor: toAccessor(randomBytes(18)), creationTime: this.#now() };
    const h = hashOf(token);
    const puts: [[string, Uint8Array], [string, Uint8Array]] = [[`token/${h}`, enc.encode(JSON.stringify(entry))], [`accessor/${entry.accessor}`, enc.encode(h)]];
    const info = { token, accessor: entry.accessor, ttl: entry.ttl, creation_time: new Date(entry.creationTime).toISOString(), creation_path: entry.creationPath, wrapped_accessor: '' };
    return { puts, out: { token, entry, info } };
  }

  /** The stored entry under `key` (`token/<hash>`), expired or not. */
  async #load(key: string, opts?: ReadOptions): Promise<{ key: string; raw: Uint8Array; entry: WrapEntry } | undefined> {
    const raw = await this.#s().get(key, opts);
    return raw ? { key, raw, entry: JSON.parse(dec.decode(raw)) as WrapEntry } : undefined;
  }

  /** The live entry for a token; an expired one is deleted on the way. */
  async #read(token: unknown): Promise<{ key: string; raw: Uint8Array; entry: WrapEntry } | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 256) return undefined;
    const r = await this.#load(`token/${hashOf(token)}`);
    if (r && this.#expired(r.entry)) {
      await this.#delete(r.key, r.raw, r.entry);
      return undefined;
    }
    return r;
  }

  #expired(e: WrapEntry): boolean {
    return e.creationTime + e.ttl * 1000 <= this.#now();
  }

  /** Deletes a token and its accessor if its entry is still `raw` (compare-and-delete); answers whether it did. */
  #delete(key: string, raw: Uint8Array, e: WrapEntry): Promise<boolean> {
    return this.#s().commit({ deletes: [key, `accessor/${e.accessor}`], expect: [[key, raw]] });
  }

  /** The live entry for a token (not spent). */
  async lookup(token: unknown): Promise<WrapEntry> {
    const r = await this.#read(token);
    if (!r) throw wrappingInvalid();
    return r.entry;
  }

  /** Spends a token: answers its entry to exactly one caller. `check` runs first and may refuse (nothing spent). */
  async spend(token: unknown, check?: (e: WrapEntry) => Promise<void>): Promise<WrapEntry> {
    const r = await this.#read(token);
    if (!r) throw wrappingInvalid();
    await check?.(r.entry);
    if (!(await this.#delete(r.key, r.raw, r.entry))) throw wrappingInvalid();
    return r.entry;
  }

  /** Deletes every expired token with what it wraps; answers how many. */
  async sweepExpired(): Promise<number> {
    let n = 0;
    for await (const h of scanKeys(this.#s(), 'token/')) {
      // One-off reads: a sweep is not kept in the barrier's cache (storage.ts, ReadOptions).
      const r = await this.#load(`token/${h}`, { uncached: true });
      if (r && this.#expired(r.entry) && (await this.#delete(r.key, r.raw, r.entry))) n++;
    }
    return n;
  }

  /** Deletes the token behind an accessor (an expired control-group request). */
  async revokeAccessor(accessor: string): Promise<void> {
    const h = await this.#s().get(`accessor/${accessor}`);
    if (h) await this.#s().commit({ deletes: [`token/${dec.decode(h)}`, `accessor/${accessor}`] });
  }
}
