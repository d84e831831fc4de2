/**
 * Pkcs11Hsm: the small high-level API over a PKCS#11 token that the seal (HSM auto-unseal) and the
 * transit key backend use. All keys it creates are AES-256 token objects that never leave the HSM.
 *
 *   const hsm = await Pkcs11Hsm.open({ module, tokenLabel, pin });     // ERR_HSM_UNAVAILABLE
 *   const key = (await hsm.findKey('arca-root-wrap'))                   // HsmKey | undefined
 *            ?? (await hsm.generateAesKey('arca-root-wrap', randomBytes(16)));
 *   const ct  = await hsm.encryptGcm(key, plaintext, aad);              // nonce(12) ‖ ct ‖ tag(16)
 *   const pt  = await hsm.decryptGcm(key, ct, aad);                     // ERR_CRYPTO_DECRYPT
 *   await hsm.findKeyById(id); await hsm.destroyKey(key); await hsm.close();
 *
 * Errors: ERR_HSM_UNAVAILABLE (module, token, PIN, session or device trouble; message says what to
 * fix, never the PIN), ERR_HSM_KEY_MISSING (the key object no longer exists), ERR_CRYPTO_DECRYPT
 * (any decryption failure, one fixed message: SoftHSM reports a bad tag as CKR_GENERAL_ERROR, so
 * no finer distinction is possible or wanted).
 *
 * The ciphertext layout equals crypto/aead.ts (CKM_AES_GCM output is byte-identical to node's
 * aes-256-gcm). The 96-bit IV comes from node:crypto, not the token: random IVs stay safe up to
 * 2^32 messages per key, and callers (seal, transit) rotate keys long before that.
 * Methods are async for a stable API; the pkcs11js calls inside are synchronous and so serialised.
 */
import { DECRYPT_FAILED, NONCE_LEN, TAG_LEN, randomNonce } from '../../crypto/index.ts';
import { ArcaError } from '../../errors/index.ts';
import { ckrName, type Handle, isHandleInvalid, isUnavailable, pkcs11js } from './module.ts';
import { HsmEcKeys } from './hsm-ec.ts';
import { type Pkcs11Options, Pkcs11Session } from './session.ts';

/**
 * A reference to an AES key object on the token; holds no key material. Callers may build one from
 * a persisted CKA_ID (`{ label, id }`): keys this instance did not hand out are looked up by id.
 */
export interface HsmKey {
  readonly label: string;
  /** CKA_ID: what callers persist to find the key again (also from another process). */
  readonly id: Uint8Array;
}

export type Pkcs11HsmOptions = Pkcs11Options;

const MAX_LABEL = 128;
/** How long a handle's CKA_ID check stays trusted for encryption (see #handleOf). */
const VERIFY_INTERVAL_MS = 1000;

export class Pkcs11Hsm {
  readonly #s: Pkcs11Session;
  /**
   * Object handles of the keys this instance handed out. A handle is only meaningful while the
   * module stays initialised, which this instance guarantees until close(); a handle from another
   * instance could name a different object after a re-initialisation, so those keys go by id.
   */
  readonly #handles = new WeakMap<HsmKey, Handle>();
  /** When each handle was last checked against its key's CKA_ID (performance.now()). */
  readonly #verifiedAt = new Map<Handle, number>();
  #ec: HsmEcKeys | undefined;

  private constructor(s: Pkcs11Session) {
    this.#s = s;
  }

  static async open(opts: Pkcs11HsmOptions): Promise<Pkcs11Hsm> {
    return new Pkcs11Hsm(Pkcs11Session.open(opts));
  }

  get tokenLabel(): string {
    return this.#s.tokenLabel;
  }

  /** The AES secret key labelled `label`, or undefined. Two keys with one label is an error. */
  async findKey(label: string): Promise<HsmKey | undefined> {
    checkLabel(label);
    return this.#findOne([{ type: pkcs11js.CKA_LABEL, value: label }], `label "${label}"`);
  }

  /** The AES secret key whose CKA_ID is `id`, or undefined. */
  async findKeyById(id: Uint8Array): Promise<HsmKey | undefined> {
    checkId(id);
    return this.#findOne([{ type: pkcs11js.CKA_ID, value: Buffer.from(id) }], 'this id');
  }

  /**
   * Generates a persistent, non-extractable AES-256 key (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
   * not CKA_EXTRACTABLE) usable for encrypt/decrypt and wrap/unwrap only.
   */
  async generateAesKey(label: string, id: Uint8Array): Promise<HsmKey> {
    checkLabel(label);
    checkId(id);
    const p11 = this.#s.p11;
    try {
      const handle = p11.C_GenerateKey(this.#s.handle, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_SIGN, value: false },
        { type: pkcs11js.CKA_VERIFY, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
      ]);
      return this.#issue(label, id, handle);
    } catch (err) {
      throw this.#fail(err, `cannot generate an AES key on token "${this.tokenLabel}"`);
    }
  }

  async encryptGcm(key: HsmKey, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const iv = Buffer.from(randomNonce().buffer);
    const out = this.#withKey(key, (handle) => {
      const p11 = this.#s.p11;
      const session = this.#s.handle;
      p11.C_EncryptInit(session, gcm(iv, aad), handle);
      // SoftHSM rejects an empty single-part input with CKR_ARGUMENTS_BAD (and leaves the
      // operation active); C_EncryptFinal alone yields the tag for an empty message.
      if (plaintext.length === 0) return p11.C_EncryptFinal(session, Buffer.alloc(TAG_LEN));
      return p11.C_Encrypt(session, Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength), Buffer.allocUnsafe(plaintext.length + TAG_LEN));
    }, 'encrypt');
    const sealed = new Uint8Array(NONCE_LEN + out.length);
    sealed.set(iv, 0);
    sealed.set(out, NONCE_LEN);
    return sealed;
  }

  async decryptGcm(key: HsmKey, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (sealed.length < NONCE_LEN + TAG_LEN) throw new ArcaError('ERR_CRYPTO_DECRYPT', DECRYPT_FAILED);
    const iv = Buffer.from(sealed.subarray(0, NONCE_LEN));
    const body = Buffer.from(sealed.buffer, sealed.byteOffset + NONCE_LEN, sealed.length - NONCE_LEN);
    const pt = this.#withKey(key, (handle) => {
      const p11 = this.#s.p11;
      const session = this.#s.handle;
      p11.C_DecryptInit(session, gcm(iv, aad), handle);
      return p11.C_Decrypt(session, body, Buffer.alloc(body.length));
    }, 'decrypt');
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength);
  }

  /** Destroys the key object for good. Destroying a key that is already gone is not an error. */
  async destroyKey(key: HsmKey): Promise<void> {
    const handle = this.#handleOf(key, true);
    if (handle === undefined) return;
    this.#verifiedAt.delete(handle);
    try {
      this.#s.p11.C_DestroyObject(this.#s.handle, handle);
    } catch (err) {
      if (isHandleInvalid(err)) return;
      throw this.#fail(err, `cannot destroy key "${key.label}" on token "${this.tokenLabel}"`);
    }
  }

  /** EC signing keys on the same session (pki CA keys); one instance per Pkcs11Hsm. */
  ecKeys(): HsmEcKeys {
    this.#ec ??= new HsmEcKeys(this.#s);
    return this.#ec;
  }

  /** Closes the session and releases the module (finalised when no other Pkcs11Hsm uses it). */
  async close(): Promise<void> {
    this.#s.close();
  }

  #findOne(match: { type: number; value: Buffer | string }[], what: string): HsmKey | undefined {
    const p11 = this.#s.p11;
    let handles: Handle[];
    try {
      const session = this.#s.handle;
      p11.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        ...match,
      ]);
      try {
        handles = p11.C_FindObjects(session, 2);
      } finally {
        p11.C_FindObjectsFinal(session);
      }
    } catch (err) {
      throw this.#fail(err, `cannot search token "${this.tokenLabel}"`);
    }
    const [handle, extra] = handles;
    if (handle === undefined) return undefined;
    if (extra !== undefined) {
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `token "${this.tokenLabel}" holds several AES keys with ${what}; remove the duplicates`);
    }
    let attrs: { value: Buffer }[];
    try {
      attrs = p11.C_GetAttributeValue(this.#s.handle, handle, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_ID }]);
    } catch (err) {
      throw this.#fail(err, `cannot read key attributes on token "${this.tokenLabel}"`);
    }
    return this.#issue(attrs[0]?.value.toString('utf8') ?? '', attrs[1]?.value ?? new Uint8Array(0), handle);
  }

  #issue(label: string, id: Uint8Array, handle: Handle): HsmKey {
    const key: HsmKey = Object.freeze({ label, id: new Uint8Array(id) });
    this.#handles.set(key, handle);
    return key;
  }

  /**
   * The handle of a key, or undefined if its object is gone. With `verify`, even a handle this
   * instance handed out is first checked against the key's CKA_ID: if another instance destroyed
   * the object, a module may reuse the handle number for a different key, and encrypting under it
   * would be silent corruption. Decryption skips the check (a wrong key cannot authenticate, and a
   * destroyed handle is reported by the module). On SoftHSM the check costs about as much as the
   * cipher call itself, so a handle is re-checked at most every VERIFY_INTERVAL_MS: in Arca a key
   * version is destroyed only together with its record (transit delete), so an encrypt under a
   * destroyed version needs another process to destroy it behind our back *and* reuse the handle
   * within that interval.
   */
  #handleOf(key: HsmKey, verify: boolean): Handle | undefined {
    const own = this.#handles.get(key);
    if (own !== undefined && (!verify || key.id.length === 0 || this.#recentlyVerified(own) || this.#hasId(own, key.id))) return own;
    if (key.id.length === 0) return undefined;
    checkId(key.id);
    const found = this.#findOne([{ type: pkcs11js.CKA_ID, value: Buffer.from(key.id) }], 'this id');
    if (found === undefined) return undefined;
    const handle = this.#handles.get(found)!;
    this.#handles.set(key, handle);
    return handle;
  }

  #recentlyVerified(handle: Handle): boolean {
    const at = this.#verifiedAt.get(handle);
    return at !== undefined && performance.now() - at < VERIFY_INTERVAL_MS;
  }

  #hasId(handle: Handle, id: Uint8Array): boolean {
    try {
      const [attr] = this.#s.p11.C_GetAttributeValue(this.#s.handle, handle, [{ type: pkcs11js.CKA_ID }]);
      const ok = attr !== undefined && Buffer.compare(attr.value, id) === 0;
      if (ok) {
        if (this.#verifiedAt.size > 100_000) this.#verifiedAt.clear();
        this.#verifiedAt.set(handle, performance.now());
      } else {
        this.#verifiedAt.delete(handle);
      }
      return ok;
    } catch (err) {
      this.#verifiedAt.delete(handle);
      if (isHandleInvalid(err)) return false;
      throw this.#fail(err, `cannot read key attributes on token "${this.tokenLabel}"`);
    }
  }

  #withKey(key: HsmKey, op: (handle: Handle) => Buffer, kind: 'encrypt' | 'decrypt'): Buffer {
    const handle = this.#handleOf(key, kind === 'encrypt');
    if (handle === undefined) throw missing(key);
    try {
      return op(handle);
    } catch (err) {
      this.#recover();
      if (isHandleInvalid(err)) throw missing(key);
      if (isUnavailable(err)) throw this.#fail(err, `HSM ${kind} failed on token "${this.tokenLabel}"`);
      if (kind === 'decrypt') throw new ArcaError('ERR_CRYPTO_DECRYPT', DECRYPT_FAILED);
      throw this.#fail(err, `HSM encrypt failed on token "${this.tokenLabel}"`);
    }
  }

  /** After a failed operation, make sure no half-finished operation blocks the session. */
  #recover(): void {
    try {
      this.#s.reset();
    } catch {
      // If even a fresh session cannot be opened, the next call reports ERR_HSM_UNAVAILABLE.
    }
  }

  #fail(err: unknown, what: string): ArcaError {
    if (err instanceof ArcaError) return err;
    return new ArcaError('ERR_HSM_UNAVAILABLE', `${what} (${ckrName(err)})`, { cause: err });
  }
}

function gcm(iv: Buffer, aad: Uint8Array) {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: {
      type: pkcs11js.CK_PARAMS_AES_GCM,
      iv,
      aad: Buffer.from(aad.buffer, aad.byteOffset, aad.byteLength),
      ivBits: NONCE_LEN * 8,
      tagBits: TAG_LEN * 8,
    },
  };
}

function missing(key: HsmKey): ArcaError {
  return new ArcaError('ERR_HSM_KEY_MISSING', `HSM key "${key.label}" no longer exists on the token`);
}

function checkLabel(label: string): void {
  if (label.length === 0 || label.length > MAX_LABEL) throw new ArcaError('ERR_INVALID_REQUEST', `HSM key label must be 1 to ${MAX_LABEL} characters`);
}

function checkId(id: Uint8Array): void {
  if (id.length === 0 || id.length > 64) throw new ArcaError('ERR_INVALID_REQUEST', 'HSM key id must be 1 to 64 bytes');
}
