/**
 * The KMS plugin logic, independent of the transport: Status / Encrypt / Decrypt for v2 and the
 * v1beta1 equivalents, over a KeySource.
 *
 * "Local KEK" design (KEP-3299): the plugin holds a random 32-byte local KEK, wrapped once by the
 * KeySource under the key's current version. Encrypt seals the apiserver's seed/DEK under the local
 * KEK in-process (ciphertext.ts), so Encrypt never waits on the network or the HSM. Decrypt finds the
 * wrapped KEK inside the ciphertext: the current one is in memory, older ones are unwrapped by the
 * source once and cached. Decrypted seeds are cached too, keyed by a hash of key_id ‖ ciphertext,
 * so everything the apiserver read before stays readable while the server is unreachable.
 *
 * Status never does I/O: a background loop refreshes the key's metadata, replaces the local KEK when
 * the key_id changed (rotation) or the KEK is old or much used, and does a real round trip through
 * the source; Status reports the last result. Encrypt refuses (UNAVAILABLE, at once) while that
 * loop says unhealthy, so no new data depends on a KEK the plugin could not verify recently.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, seal, wipe } from '../crypto/index.ts';
import { ArcaError, toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { SecretCache } from './cache.ts';
import { encodeHeader, MAX_CIPHERTEXT, type ParsedCiphertext, parseCiphertext } from './ciphertext.ts';
import type { KeyMeta, KeySource } from './key-source.ts';

/** Plaintexts are 32-byte seeds/DEKs (v2) or short DEKs (v1); the cap keeps ciphertexts under 1024 bytes. */
export const MAX_PLAINTEXT = 256;
export const MAX_REQUEST_KEY_ID = 1024;
/** Local KEK limits (as in the upstream reference): random 96-bit nonces stay far inside 2^32 uses. */
const KEK_MAX_USES = 2 ** 21;
const KEK_HARD_USES = 2 ** 22 - 1;
const KEK_MAX_AGE_MS = 7 * 24 * 3600_000;

export interface PluginObserver {
  keyId?(keyId: string): void;
  health?(ok: boolean): void;
  cache?(kind: 'seed' | 'kek', hit: boolean, size: number): void;
}

export interface ServiceOptions {
  healthIntervalMs: number;
  cacheSize: number;
  cacheTtlMs: number;
  log: Logger;
  observer?: PluginObserver;
}

interface LocalKek {
  kek: Uint8Array;
  keyId: string;
  wrapped: Uint8Array;
  header: Uint8Array;
  uses: number;
  created: number;
}

export interface StatusResult {
  version: 'v2';
  healthz: string;
  keyId: string;
}

export class KmsPluginService {
  readonly #src: KeySource;
  readonly #o: ServiceOptions;
  readonly #seeds: SecretCache;
  readonly #keks: SecretCache;
  readonly #unwrapping = new Map<string, Promise<Uint8Array>>();
  #kek: LocalKek | undefined;
  #meta: KeyMeta | undefined;
  #healthz = 'starting: no health check has completed yet';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(src: KeySource, o: ServiceOptions) {
    this.#src = src;
    this.#o = o;
    this.#seeds = new SecretCache(o.cacheSize, o.cacheTtlMs);
    this.#keks = new SecretCache(Math.max(16, Math.ceil(o.cacheSize / 16)), o.cacheTtlMs);
  }

  get description(): string {
    return this.#src.description;
  }

  /** Runs the first check now and then every healthIntervalMs. Resolves after the first check. */
  async start(): Promise<void> {
    await this.checkNow();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.checkNow().finally(() => this.#schedule());
    }, this.#o.healthIntervalMs);
    this.#timer.unref();
  }

  /** One health iteration (refresh, maybe new local KEK, round trip). Never throws. */
  checkNow(): Promise<void> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(): Promise<void> {
    // A hung server (no refusal, just silence) must not keep Status at "ok" for several request
    // timeouts: a check that outlives one interval reports unhealthy while it goes on.
    const slow = setTimeout(() => {
      this.#setHealth(`ERR_KMS_PLUGIN_UNAVAILABLE: health check did not finish within ${this.#o.healthIntervalMs} ms`);
    }, this.#o.healthIntervalMs);
    slow.unref();
    try {
      const meta = await this.#src.refresh();
      this.#meta = meta;
      // Right after the refresh, before anything else of the check can fail: a retired version
      // (below min_decryption_version) stops decrypting from the caches as soon as we know of it.
      const dropped = this.#seeds.prune(meta.allows) + this.#keks.prune(meta.allows);
      if (dropped) this.#o.log.info({ dropped }, 'cache entries of disallowed key versions dropped');
      const k = this.#kek;
      if (!k || k.keyId !== meta.currentKeyId || k.uses >= KEK_MAX_USES || Date.now() - k.created > KEK_MAX_AGE_MS) {
        await this.#newKek();
      }
      await this.#src.probe();
      this.#setHealth('ok');
    } catch (err) {
      const e = toArcaError(err);
      this.#o.log.warn({ code: e.code, err: e.expose ? e.message : 'internal error' }, 'kms plugin health check failed');
      this.#setHealth(`${e.code}: ${(e.expose ? e.message : 'internal error').slice(0, 200)}`);
    } finally {
      clearTimeout(slow);
    }
  }

  #setHealth(h: string): void {
    if (h !== this.#healthz) this.#o.log.info({ healthz: h, source: this.#src.description }, 'kms plugin health changed');
    this.#healthz = h;
    this.#o.observer?.health?.(h === 'ok');
  }

  async #newKek(): Promise<void> {
    const kek = new Uint8Array(randomBytes(32));
    const { keyId, wrapped } = await this.#src.wrap(kek);
    const old = this.#kek;
    this.#kek = { kek, keyId, wrapped, header: encodeHeader(keyId, wrapped), uses: 0, created: Date.now() };
    // The old local KEK stays readable through the KEK cache (it is still wrapped in its ciphertexts).
    if (old) {
      this.#keks.set(kekCacheKey(old.wrapped), old.kek, old.keyId);
      wipe(old.kek);
    }
    this.#o.observer?.keyId?.(keyId);
    this.#o.log.info({ keyId, source: this.#src.description }, 'new local kek');
  }

  status(): StatusResult {
    return { version: 'v2', healthz: this.#healthz, keyId: this.#kek?.keyId ?? 'none' };
  }

  get healthy(): boolean {
    return this.#healthz === 'ok';
  }

  encrypt(plaintext: Uint8Array): { ciphertext: Uint8Array; keyId: string } {
    if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT) {
      throw new ArcaError('ERR_PAYLOAD_TOO_LARGE', `plaintext must be 1 to ${MAX_PLAINTEXT} bytes (a DEK or seed), got ${plaintext.length}`);
    }
    const k = this.#kek;
    if (!k || this.#healthz !== 'ok') {
      throw new ArcaError('ERR_KMS_PLUGIN_UNAVAILABLE', `kms plugin is not healthy (${this.#healthz.slice(0, 120)}); not encrypting`);
    }
    if (k.uses >= KEK_HARD_USES) throw new ArcaError('ERR_KMS_PLUGIN_UNAVAILABLE', 'local KEK use limit reached; waiting for the next refresh');
    k.uses++;
    const sealed = seal(k.kek, plaintext, k.header);
    const out = new Uint8Array(k.header.length + sealed.length);
    out.set(k.header, 0);
    out.set(sealed, k.header.length);
    return { ciphertext: out, keyId: k.keyId };
  }

  /**
   * `keyId` is the one stored beside the ciphertext (v2); v1beta1 passes undefined. Answers
   * synchronously when no I/O is needed (cached seed, or a local KEK in memory) — the common case —
   * and with a promise only when the key source must unwrap a local KEK.
   */
  decrypt(ciphertext: Uint8Array, keyId: string | undefined): Uint8Array | Promise<Uint8Array> {
    if (ciphertext.length === 0 || ciphertext.length > MAX_CIPHERTEXT) {
      throw new ArcaError('ERR_PAYLOAD_TOO_LARGE', `ciphertext must be 1 to ${MAX_CIPHERTEXT} bytes, got ${ciphertext.length}`);
    }
    if (keyId !== undefined && Buffer.byteLength(keyId) > MAX_REQUEST_KEY_ID) {
      throw new ArcaError('ERR_PAYLOAD_TOO_LARGE', `key_id must be at most ${MAX_REQUEST_KEY_ID} bytes`);
    }
    const ck = seedCacheKey(keyId ?? '', ciphertext);
    // An entry cached by an unwrap that was in flight during the last prune is checked again here.
    const hit = this.#seeds.get(ck, this.#meta?.allows);
    this.#o.observer?.cache?.('seed', hit !== undefined, this.#seeds.size);
    if (hit) return hit;

    const p = parseCiphertext(ciphertext);
    if (keyId !== undefined && keyId !== p.keyId) {
      throw new ArcaError('ERR_KMS_KEY_ID_UNKNOWN', 'key_id does not name the key version this ciphertext was encrypted under');
    }
    const local = this.#localKek(p.keyId, p.wrappedKek);
    if (local) return this.#openSeed(local, p, ck);
    return this.#unwrapKek(p.keyId, p.wrappedKek).then((kek) => this.#openSeed(kek, p, ck));
  }

  #openSeed(kek: Uint8Array, p: ParsedCiphertext, ck: string): Uint8Array {
    try {
      const seed = open(kek, p.sealed, p.header);
      this.#seeds.set(ck, seed, p.keyId);
      return seed;
    } finally {
      wipe(kek);
    }
  }

  /** A copy of the local KEK for `wrapped` if it is in memory (current or cached), else undefined. */
  #localKek(keyId: string, wrapped: Uint8Array): Uint8Array | undefined {
    // A key_id the last refresh did not allow (unknown, or below min_decryption_version) is never
    // served from memory, not even as the current local KEK (whose replacement may have failed):
    // the source decides (it refreshes once for a key_id it has not seen).
    if (this.#meta && !this.#meta.allows(keyId)) return undefined;
    const cur = this.#kek;
    if (cur && cur.keyId === keyId && Buffer.compare(cur.wrapped, wrapped) === 0) return new Uint8Array(cur.kek);
    const cached = this.#keks.get(kekCacheKey(wrapped));
    this.#o.observer?.cache?.('kek', cached !== undefined, this.#keks.size);
    return cached;
  }

  /** Unwraps through the key source, one call per wrapped KEK however many Decrypts wait for it. */
  async #unwrapKek(keyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    const ck = kekCacheKey(wrapped);
    let pending = this.#unwrapping.get(ck);
    if (!pending) {
      pending = this.#src.unwrap(keyId, wrapped).then((kek) => {
        if (kek.length !== 32) throw new ArcaError('ERR_CRYPTO_DECRYPT', 'wrapped local KEK has the wrong size');
        this.#keks.set(ck, kek, keyId);
        return kek;
      });
      this.#unwrapping.set(ck, pending);
      void pending.then(
        () => this.#unwrapping.delete(ck),
        () => this.#unwrapping.delete(ck),
      );
    }
    return new Uint8Array(await pending);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    this.#seeds.clear();
    this.#keks.clear();
    if (this.#kek) wipe(this.#kek.kek);
    await this.#src.close();
  }
}

function seedCacheKey(keyId: string, ct: Uint8Array): string {
  return createHash('sha256').update(keyId).update('\0').update(ct).digest('base64');
}

function kekCacheKey(wrapped: Uint8Array): string {
  return createHash('sha256').update(wrapped).digest('base64');
}
