/**
 * Loads and saves key policies in the mount's (barrier-encrypted) storage, with a small cache so
 * encrypt/decrypt do not pay a barrier decryption and a JSON parse per request.
 *
 * Writes go through this store (write-through), so the replica that changes a key never serves a
 * stale one. Entries expire after `cacheTtlMs` in case another replica changed the key; a
 * ciphertext naming a version newer than the cached latest forces a reload (see engine).
 * Changes to one key are serialised by an in-process lock, and each write expects the stored bytes
 * of the policy it was made from: two engine instances (an HA takeover or a snapshot restore swaps
 * engines while requests run) can never both add "version N+1" and lose one of them.
 */
import { ArcaError } from '../../errors/index.ts';
import type { Storage } from '../../storage/index.ts';
import { decodePolicy, encodePolicy, type KeyPolicy } from './policy.ts';

/** Vault keeps transit keys under `policy/`; we do the same so a storage dump reads familiarly. */
const POLICY_PREFIX = 'policy/';

export class KeyStore {
  readonly #storage: Storage;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { policy: KeyPolicy | undefined; at: number }>();
  readonly #locks = new Map<string, Promise<unknown>>();
  /** The stored bytes each policy object was read from or written as (what a write based on it expects). */
  readonly #stored = new WeakMap<KeyPolicy, Uint8Array>();

  constructor(storage: Storage, now: () => number, cacheTtlMs = 5000) {
    this.#storage = storage;
    this.#now = now;
    this.#ttlMs = cacheTtlMs;
  }

  async get(name: string, fresh = false): Promise<KeyPolicy | undefined> {
    const hit = this.#cache.get(name);
    const now = this.#now();
    if (!fresh && hit && now - hit.at < this.#ttlMs && now >= hit.at) return hit.policy;
    const bytes = await this.#storage.get(POLICY_PREFIX + name);
    const policy = bytes === undefined ? undefined : decodePolicy(bytes);
    if (policy && bytes) this.#stored.set(policy, bytes);
    // Misses are not cached: an upsert on another replica must become visible at once.
    if (policy) this.#cache.set(name, { policy, at: now });
    else this.#cache.delete(name);
    return policy;
  }

  /** Writes `p`, made from `from` (undefined: a new key), only if storage still holds `from`. */
  async put(p: KeyPolicy, from: KeyPolicy | undefined): Promise<void> {
    const bytes = encodePolicy(p);
    await this.#commit(p.name, { puts: [[POLICY_PREFIX + p.name, bytes]] }, from);
    this.#stored.set(p, bytes);
    this.#cache.set(p.name, { policy: p, at: this.#now() });
  }

  /** Deletes the key, only if storage still holds `from`. */
  async delete(name: string, from: KeyPolicy): Promise<void> {
    this.#cache.delete(name);
    await this.#commit(name, { deletes: [POLICY_PREFIX + name] }, from);
  }

  async #commit(name: string, ops: { puts?: [string, Uint8Array][]; deletes?: string[] }, from: KeyPolicy | undefined): Promise<void> {
    const expected = from === undefined ? undefined : this.#stored.get(from);
    if (from !== undefined && expected === undefined) throw new ArcaError('ERR_INTERNAL', 'transit key written from a policy this store did not read', { expose: false });
    if (!(await this.#storage.commit({ ...ops, expect: [[POLICY_PREFIX + name, expected]] }))) {
      this.#cache.delete(name);
      throw new ArcaError('ERR_STORAGE_CONFLICT', `transit key ${name} changed while this request ran (another request or replica changed it); nothing was written: try again`);
    }
  }

  async list(): Promise<string[]> {
    return (await this.#storage.list(POLICY_PREFIX)).filter((n) => !n.endsWith('/'));
  }

  /** Runs `fn` with exclusive access to key `name` (create, rotate, config, delete). */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(name) === tail) this.#locks.delete(name);
    }
  }
}
