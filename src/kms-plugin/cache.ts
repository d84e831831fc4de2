/**
 * A bounded map with a time-to-live: the least recently used entry goes first when full, and an
 * entry older than `ttlMs` is never returned. Values are copied in and out and wiped on eviction,
 * because they are key material (unwrapped local KEKs, decrypted seeds).
 */
import { wipe } from '../crypto/index.ts';

export interface CacheEntry {
  value: Uint8Array;
  /** The key_id the value belongs to, so a refresh can evict versions that may no longer decrypt. */
  keyId: string;
  expires: number;
}

export class SecretCache {
  readonly #map = new Map<string, CacheEntry>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  /** The value, unless expired or (when `keep` is given) its key_id fails `keep`; either drops it. */
  get(key: string, keep?: (keyId: string) => boolean): Uint8Array | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now() || (keep && !keep(e.keyId))) {
      this.#drop(key, e);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.#map.delete(key);
    this.#map.set(key, e);
    return new Uint8Array(e.value);
  }

  set(key: string, value: Uint8Array, keyId: string): void {
    if (this.maxEntries <= 0) return;
    const old = this.#map.get(key);
    if (old) this.#drop(key, old);
    while (this.#map.size >= this.maxEntries) {
      const first = this.#map.entries().next().value;
      if (!first) break;
      this.#drop(first[0], first[1]);
    }
    this.#map.set(key, { value: new Uint8Array(value), keyId, expires: this.now() + this.ttlMs });
  }

  /** Drops every entry whose key_id fails `keep`, and every expired entry. Returns how many went. */
  prune(keep: (keyId: string) => boolean): number {
    const t = this.now();
    let n = 0;
    for (const [k, e] of this.#map) {
      if (e.expires <= t || !keep(e.keyId)) {
        this.#drop(k, e);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    for (const [k, e] of this.#map) this.#drop(k, e);
  }

  #drop(key: string, e: CacheEntry): void {
    wipe(e.value);
    this.#map.delete(key);
  }
}
