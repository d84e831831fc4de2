/**
 * The security barrier (after Vault's AESGCMBarrier): every value Arca stores passes through it.
 *
 * Value layout: version(1) = 0x01 ‖ term(4, big-endian) ‖ nonce(12) ‖ ciphertext ‖ tag(16).
 * AAD = version ‖ term ‖ UTF-8 storage path — binding the path means a value copied or moved to
 * another key fails to decrypt, and binding the header means the term cannot be swapped.
 *
 * Keys under `core/` belong to the seal (root-key blob, seal config, the keyring itself) and are
 * not reachable through the barrier's Storage face.
 */
import { ArcaError } from '../errors/index.ts';
import { open, randomKey, randomNonce, seal, utf8, wipe } from '../crypto/index.ts';
import { bytesEqual, checkCommit, type CommitOps, type ReadOptions, type Storage } from '../storage/index.ts';
import { Keyring } from './keyring.ts';

const VERSION = 0x01;
const CACHE_MAX_ENTRIES = 10_000;
const CACHE_MAX_VALUE = 64 * 1024;
const HEADER_LEN = 5;
/** Where the keyring lives, encrypted under the root key (outside the barrier's own face). */
export const KEYRING_PATH = 'core/keyring';
/** Keys under this prefix belong to the seal: stored as they are, never through the barrier. */
export const SEAL_KEYS_PREFIX = 'core/';
const KEYRING_AAD = utf8('arca/barrier/keyring/v1');

/** AAD = version ‖ term ‖ UTF-8 path, in one pooled buffer (its first HEADER_LEN bytes are the value's header). */
function aadFor(term: number, path: string): Buffer {
  const aad = Buffer.allocUnsafe(HEADER_LEN + Buffer.byteLength(path));
  aad[0] = VERSION;
  aad.writeUInt32BE(term, 1);
  aad.write(path, HEADER_LEN, 'utf8');
  return aad;
}

export class Barrier implements Storage {
  readonly #raw: Storage;
  #keyring: Keyring | undefined;
  #rootKey: Uint8Array | undefined;
  readonly #now: () => number;
  /** Where GCM nonces come from: the CSPRNG, except in the test that pins the on-disk format. */
  readonly #nonce: () => Uint8Array;
  /**
   * Plaintext read cache (active server only in effect: every write goes through this barrier, and
   * HA takeover reloads the keyring, which clears it). Bounded; values are copies, wiped when dropped.
   * `#gen` counts writes so a read that raced a write never caches what it read.
   */
  readonly #cache = new Map<string, Uint8Array>();
  #gen = 0;

  constructor(raw: Storage, now: () => number = Date.now, nonce: () => Uint8Array = randomNonce) {
    this.#raw = raw;
    this.#now = now;
    this.#nonce = nonce;
  }

  get sealed(): boolean {
    return this.#keyring === undefined;
  }

  /** First-time setup under a new root key: writes a fresh keyring. */
  async initialize(rootKey: Uint8Array): Promise<void> {
    const kr = Keyring.fresh(randomKey(), this.#now());
    await this.#raw.put(KEYRING_PATH, seal(rootKey, kr.serialize(), KEYRING_AAD, this.#nonce()));
    kr.wipe();
  }

  /**
   * A fresh keyring sealed under `rootKey`, for the caller to store at KEYRING_PATH (init commits it
   * together with the seal records, in one transaction, so concurrent inits cannot mix their keys).
   */
  freshKeyringRecord(rootKey: Uint8Array): Uint8Array {
    const kr = Keyring.fresh(randomKey(), this.#now());
    try {
      return seal(rootKey, kr.serialize(), KEYRING_AAD);
    } finally {
      kr.wipe();
    }
  }

  /** Loads the keyring with the root key. Wrong root key → ERR_BARRIER_DECRYPT. */
  async unseal(rootKey: Uint8Array): Promise<void> {
    const blob = await this.#raw.get(KEYRING_PATH);
    if (!blob) throw new ArcaError('ERR_NOT_INITIALIZED', 'barrier keyring not found: the server is not initialized');
    const plain = open(rootKey, blob, KEYRING_AAD, 'ERR_BARRIER_DECRYPT');
    this.#keyring = Keyring.deserialize(plain);
    wipe(plain);
    this.#rootKey = new Uint8Array(rootKey);
  }

  seal(): void {
    this.clearCache();
    this.#keyring?.wipe();
    this.#keyring = undefined;
    wipe(this.#rootKey);
    this.#rootKey = undefined;
  }

  /** Adds a new term; new writes use it, old terms keep reading. Returns the new term number. */
  async rotate(): Promise<{ term: number; installedAt: number }> {
    const kr = this.#ring();
    const next = { term: kr.activeTerm.term + 1, key: randomKey(), installedAt: this.#now() };
    const candidate = Keyring.deserialize(kr.serialize());
    candidate.add({ ...next, key: new Uint8Array(next.key) });
    // Persist first: the in-memory ring changes only once the new keyring is durable.
    await this.#raw.put(KEYRING_PATH, seal(this.#rootKey!, candidate.serialize(), KEYRING_AAD, this.#nonce()));
    candidate.wipe();
    kr.add(next);
    return { term: next.term, installedAt: next.installedAt };
  }

  /**
   * Re-reads the keyring (another replica may have rotated). The new ring replaces the old one in one
   * step once it is loaded: the barrier never looks sealed meanwhile, so requests running while an HA
   * replica takes over (e.g. right after its unseal) do not fail with ERR_BARRIER_SEALED.
   */
  async reloadKeyring(): Promise<void> {
    if (!this.#rootKey) throw this.#sealedError();
    const blob = await this.#raw.get(KEYRING_PATH);
    if (!blob) throw new ArcaError('ERR_NOT_INITIALIZED', 'barrier keyring not found: the server is not initialized');
    // Sealed while we waited: the root key is gone, and so is any reason to reload.
    if (!this.#rootKey) throw this.#sealedError();
    const plain = open(this.#rootKey, blob, KEYRING_AAD, 'ERR_BARRIER_DECRYPT');
    const next = Keyring.deserialize(plain);
    wipe(plain);
    this.clearCache();
    const old = this.#keyring;
    this.#keyring = next;
    old?.wipe();
  }

  /**
   * Whether data written under a stored keyring record (a snapshot's) reads here: the record opens
   * with this barrier's root key, and each of its terms is one of this keyring's, with the same key.
   * (Rotations after the snapshot only add terms here, so they do not matter.)
   */
  coversKeyring(record: Uint8Array): boolean {
    const ring = this.#ring();
    let plain: Uint8Array;
    try {
      plain = open(this.#rootKey!, record, KEYRING_AAD, 'ERR_BARRIER_DECRYPT');
    } catch {
      return false;
    }
    let other: Keyring;
    try {
      other = Keyring.deserialize(plain);
    } catch {
      return false;
    } finally {
      wipe(plain);
    }
    try {
      return other.terms.every((t) => bytesEqual(ring.term(t.term)?.key, t.key));
    } finally {
      other.wipe();
    }
  }

  /**
   * A barrier over another store with a copy of this keyring, to read a snapshot's entries through
   * (its keyring checked with coversKeyring first). It has no root key: it cannot rotate or reload.
   * `seal()` it after use to wipe the copy.
   */
  over(raw: Storage): Barrier {
    const b = new Barrier(raw, this.#now, this.#nonce);
    const plain = this.#ring().serialize();
    try {
      b.#keyring = Keyring.deserialize(plain);
    } finally {
      wipe(plain);
    }
    return b;
  }

  keyStatus(): { term: number; installedAt: number } {
    const t = this.#ring().activeTerm;
    return { term: t.term, installedAt: t.installedAt };
  }

  encrypt(path: string, plaintext: Uint8Array): Uint8Array {
    const t = this.#ring().activeTerm;
    const aad = aadFor(t.term, path);
    return seal(t.key, plaintext, aad, this.#nonce(), aad.subarray(0, HEADER_LEN));
  }

  decrypt(path: string, value: Uint8Array): Uint8Array {
    const kr = this.#ring();
    if (value.length < HEADER_LEN || value[0] !== VERSION) throw new ArcaError('ERR_BARRIER_DECRYPT', 'message authentication failed', { expose: false });
    const n = new DataView(value.buffer, value.byteOffset).getUint32(1);
    const term = kr.term(n);
    if (!term) throw new ArcaError('ERR_BARRIER_DECRYPT', 'message authentication failed', { expose: false });
    return open(term.key, value.subarray(HEADER_LEN), aadFor(n, path), 'ERR_BARRIER_DECRYPT');
  }

  async get(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    this.#check(key);
    const hit = this.#cache.get(key);
    if (hit) return new Uint8Array(hit);
    const gen = this.#gen;
    const raw = await this.#raw.get(key);
    if (raw === undefined) return undefined;
    const plain = this.decrypt(key, raw);
    // Only if no write through this barrier happened meanwhile (it could have made `raw` stale), and
    // not for a scan's one-off reads (the sweep reads every token: they would evict the hot entries).
    if (gen === this.#gen && plain.length <= CACHE_MAX_VALUE && !opts?.uncached) {
      if (this.#cache.size >= CACHE_MAX_ENTRIES) this.#evictOne();
      this.#cache.set(key, new Uint8Array(plain));
    }
    return plain;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#check(key);
    this.#invalidate([key]);
    try {
      await this.#raw.put(key, this.encrypt(key, value));
    } finally {
      this.#invalidate([key]);
    }
  }

  async delete(key: string): Promise<void> {
    this.#check(key);
    this.#invalidate([key]);
    try {
      await this.#raw.delete(key);
    } finally {
      this.#invalidate([key]);
    }
  }

  /** Drops cached plaintexts of `keys` and bumps the write generation (see get). */
  #invalidate(keys: Iterable<string>): void {
    this.#gen++;
    for (const k of keys) {
      this.#cache.get(k)?.fill(0);
      this.#cache.delete(k);
    }
  }

  #evictOne(): void {
    const first = this.#cache.keys().next();
    if (!first.done) this.#invalidate([first.value]);
  }

  /** Forgets every cached plaintext (seal, keyring reload — e.g. an HA takeover). */
  clearCache(): void {
    for (const v of this.#cache.values()) v.fill(0);
    this.#cache.clear();
    this.#gen++;
  }

  async list(prefix: string): Promise<string[]> {
    this.#ring();
    const names = await this.#raw.list(prefix);
    return prefix === '' ? names.filter((n) => n !== SEAL_KEYS_PREFIX) : names;
  }

  /** Compare-and-put on plaintext: ciphertexts are randomised, so compare after decrypting. */
  async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    this.#check(key);
    this.#invalidate([key]);
    try {
      const raw = await this.#raw.get(key);
      const current = raw === undefined ? undefined : this.decrypt(key, raw);
      if (!bytesEqual(current, expected)) return false;
      return await this.#raw.putIf(key, this.encrypt(key, value), raw);
    } finally {
      this.#invalidate([key]);
    }
  }

  /**
   * Atomic multi-key write. Each put is encrypted with its own path as AAD. Expectations are on
   * plaintext, as in putIf: read the raw value, decrypt and compare, then expect those raw bytes in
   * the inner commit, so a concurrent change between our read and the commit still fails it.
   */
  async commit(ops: CommitOps): Promise<boolean> {
    const c = checkCommit(ops);
    for (const [key] of [...c.puts, ...c.expect]) this.#check(key);
    for (const key of c.deletes) this.#check(key);
    const touched = [...c.puts.map(([k]) => k), ...c.deletes, ...c.expect.map(([k]) => k)];
    this.#invalidate(touched);
    try {
      return await this.#commitUncached(c);
    } finally {
      this.#invalidate(touched);
    }
  }

  async #commitUncached(c: ReturnType<typeof checkCommit>): Promise<boolean> {
    const expect: [string, Uint8Array | undefined][] = [];
    for (const [key, expected] of c.expect) {
      const raw = await this.#raw.get(key);
      const current = raw === undefined ? undefined : this.decrypt(key, raw);
      if (!bytesEqual(current, expected)) return false;
      expect.push([key, raw]);
    }
    return this.#raw.commit({
      puts: c.puts.map(([key, value]) => [key, this.encrypt(key, value)] as const),
      deletes: c.deletes,
      expect,
      durability: c.relaxed ? 'relaxed' : undefined,
    });
  }

  async close(): Promise<void> {
    this.seal();
  }

  #ring(): Keyring {
    if (!this.#keyring) throw this.#sealedError();
    return this.#keyring;
  }

  #check(key: string): void {
    this.#ring();
    if (key === 'core' || key.startsWith(SEAL_KEYS_PREFIX)) throw new ArcaError('ERR_INTERNAL', 'core/ is reserved for the seal', { expose: false });
  }

  #sealedError(): ArcaError {
    return new ArcaError('ERR_BARRIER_SEALED', 'Vault is sealed');
  }
}
