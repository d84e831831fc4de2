/**
 * Loads and saves key policies in the mount's (barrier-encrypted) storage, with a small cache so
 * encrypt/decrypt do not pay a barrier decryption and a JSON parse per request.
 *
 * Writes go through this store (write-through), so the replica that changes a key never serves a
 * stale one. Entries expire after `cacheTtlMs` in case another replica changed the key; a
 * ciphertext naming a version newer than the cached latest forces a reload (see engine).
 * Changes to one key are serialised by an in-process lock.
 */
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
    // Misses are not cached: an upsert on another replica must become visible at once.
    if (policy) this.#cache.set(name, { policy, at: now });
    else this.#cache.delete(name);
    return policy;
  }

  async put(p: KeyPolicy): Promise<void> {
    await this.#storage.put(POLICY_PREFIX + p.name, encodePolicy(p));
    this.#cache.set(p.name, { policy: p, at: this.#now() });
  }

  async delete(name: string): Promise<void> {
    this.#cache.delete(name);
    await this.#storage.delete(POLICY_PREFIX + name);
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
