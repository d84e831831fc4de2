/**
 * HsmKeyBackend (`hsm-aes256-gcm96`): each key version is a non-extractable AES-256 object on a
 * PKCS#11 token, labelled `arca-transit-<versionId>`, and the ref the caller persists is its CKA_ID
 * (16 random bytes), so any process logged in to the token finds it again.
 *
 *   const keys = await HsmKeyBackend.open({ module, tokenLabel, pin });   // owns its Pkcs11Hsm
 *   const keys = new HsmKeyBackend(hsm);                                  // borrows one (close() leaves it open)
 *
 * Errors: encrypt/decrypt with a ref whose object is gone → ERR_HSM_KEY_MISSING (an operational
 * problem worth alerting on, not a bad ciphertext); every other decryption failure → the one
 * ERR_CRYPTO_DECRYPT; token trouble → ERR_HSM_UNAVAILABLE.
 */
import { randomBytes } from 'node:crypto';
import { DECRYPT_FAILED } from '../../crypto/index.ts';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { KeyBackend } from '../backend.ts';
import type { HsmEcKeys } from './hsm-ec.ts';
import { type HsmKey, Pkcs11Hsm, type Pkcs11HsmOptions } from './hsm.ts';

export const TRANSIT_KEY_LABEL_PREFIX = 'arca-transit-';
const ID_LEN = 16;

export class HsmKeyBackend implements KeyBackend {
  readonly type = 'hsm-aes256-gcm96' as const;
  readonly #hsm: Pkcs11Hsm;
  readonly #owns: boolean;
  /** CKA_ID (hex) → key handed out by #hsm, so a hot key costs no C_FindObjects per operation. */
  readonly #cache = new Map<string, HsmKey>();

  constructor(hsm: Pkcs11Hsm, opts: { ownsHsm?: boolean } = {}) {
    this.#hsm = hsm;
    this.#owns = opts.ownsHsm ?? false;
  }

  static async open(opts: Pkcs11HsmOptions): Promise<HsmKeyBackend> {
    return new HsmKeyBackend(await Pkcs11Hsm.open(opts), { ownsHsm: true });
  }

  async createVersion(versionId: string): Promise<Uint8Array> {
    const id = randomBytes(ID_LEN);
    const key = await this.#hsm.generateAesKey(`${TRANSIT_KEY_LABEL_PREFIX}${versionId}`, id);
    this.#cache.set(id.toString('hex'), key);
    return new Uint8Array(id);
  }

  async encrypt(ref: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (ref.length !== ID_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', `HSM key reference must be ${ID_LEN} bytes`);
    return this.#withKey(ref, (key) => this.#hsm.encryptGcm(key, plaintext, aad));
  }

  async decrypt(ref: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (ref.length !== ID_LEN) throw new ArcaError('ERR_CRYPTO_DECRYPT', DECRYPT_FAILED);
    return this.#withKey(ref, (key) => this.#hsm.decryptGcm(key, ciphertext, aad));
  }

  async destroyVersion(ref: Uint8Array): Promise<void> {
    if (ref.length !== ID_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', `HSM key reference must be ${ID_LEN} bytes`);
    const hex = Buffer.from(ref).toString('hex');
    const key = this.#cache.get(hex) ?? { label: '', id: new Uint8Array(ref) };
    this.#cache.delete(hex);
    await this.#hsm.destroyKey(key);
  }

  /** The token's EC signing keys (pki CA keys), sharing this backend's session. */
  ecKeys(): HsmEcKeys {
    return this.#hsm.ecKeys();
  }

  async close(): Promise<void> {
    this.#cache.clear();
    if (this.#owns) await this.#hsm.close();
  }

  async #key(ref: Uint8Array): Promise<HsmKey> {
    const hex = Buffer.from(ref).toString('hex');
    const cached = this.#cache.get(hex);
    if (cached) return cached;
    const found = await this.#hsm.findKeyById(ref);
    if (!found) throw new ArcaError('ERR_HSM_KEY_MISSING', 'HSM key for this key version does not exist on the token');
    this.#cache.set(hex, found);
    return found;
  }

  /** Pkcs11Hsm re-checks every key before use; a key found gone is dropped from the cache. */
  async #withKey(ref: Uint8Array, op: (key: HsmKey) => Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await op(await this.#key(ref));
    } catch (err) {
      if (isArcaError(err, 'ERR_HSM_KEY_MISSING')) this.#cache.delete(Buffer.from(ref).toString('hex'));
      throw err;
    }
  }
}
