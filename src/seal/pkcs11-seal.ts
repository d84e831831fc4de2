/**
 * HSM auto-unseal: the root key is AES-GCM-wrapped by a non-extractable AES-256 key inside a PKCS#11
 * token. The wrapping key is found by label; init creates it when `generateKey` allows.
 */
import { randomBytes } from 'node:crypto';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { type HsmKey, Pkcs11Hsm } from '../keys/pkcs11/hsm.ts';
import type { AutoSeal } from './types.ts';

export interface Pkcs11SealOptions {
  module: string;
  tokenLabel: string;
  pin: string;
  keyLabel: string;
  generateKey: boolean;
}

export class Pkcs11Seal implements AutoSeal {
  readonly type = 'pkcs11' as const;
  readonly keyLabel: string;
  readonly #hsm: Pkcs11Hsm;
  readonly #generate: boolean;

  private constructor(hsm: Pkcs11Hsm, o: Pkcs11SealOptions) {
    this.#hsm = hsm;
    this.keyLabel = o.keyLabel;
    this.#generate = o.generateKey;
  }

  static async open(o: Pkcs11SealOptions): Promise<Pkcs11Seal> {
    return new Pkcs11Seal(await Pkcs11Hsm.open({ module: o.module, tokenLabel: o.tokenLabel, pin: o.pin }), o);
  }

  async #key(): Promise<HsmKey> {
    const k = await this.#hsm.findKey(this.keyLabel);
    if (!k) {
      throw new ArcaError('ERR_HSM_KEY_MISSING', `the HSM token has no key labelled "${this.keyLabel}": restore the key (or the token) the server was initialized with; the stored data is untouched`);
    }
    return k;
  }

  async prepare(): Promise<void> {
    if (await this.#hsm.findKey(this.keyLabel)) return;
    if (!this.#generate) throw new ArcaError('ERR_HSM_KEY_MISSING', `no key labelled "${this.keyLabel}" in the HSM and seal.generateKey is false`);
    await this.#hsm.generateAesKey(this.keyLabel, new Uint8Array(randomBytes(16)));
  }

  async wrap(rootKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    return this.#hsm.encryptGcm(await this.#key(), rootKey, aad);
  }

  async unwrap(blob: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const key = await this.#key();
    try {
      return await this.#hsm.decryptGcm(key, blob, aad);
    } catch (err) {
      if (isArcaError(err, 'ERR_CRYPTO_DECRYPT')) {
        throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', `the HSM key "${this.keyLabel}" did not unwrap the root key: it is not the key this server was initialized with`);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#hsm.close();
  }
}
