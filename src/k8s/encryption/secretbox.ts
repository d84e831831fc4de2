/** NaCl secretbox (XSalsa20-Poly1305): nonce(24) ‖ tag(16) ‖ C. No AAD: the etcd key is not bound. */
import { randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { ArcaError } from '../../errors/index.ts';
import type { RandomFn } from './aes.ts';
import { type FromStorageResult, type Transformer, decryptError } from './transformer.ts';

export class SecretboxTransformer implements Transformer {
  constructor(
    private readonly key: Uint8Array,
    private readonly random: RandomFn = (n) => randomBytes(n),
  ) {
    if (key.length !== 32) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', `secretbox keys must be 32 bytes, got ${key.length}`);
  }

  async fromStorage(data: Uint8Array): Promise<FromStorageResult> {
    return this.fromStorageSync(data);
  }

  fromStorageSync(data: Uint8Array): FromStorageResult {
    if (data.length < 24 + 16) throw decryptError('secretbox: data too short');
    try {
      const plaintext = xsalsa20poly1305(this.key, data.subarray(0, 24)).decrypt(data.subarray(24));
      return { plaintext, stale: false };
    } catch (err) {
      throw decryptError('secretbox: authentication failed', err);
    }
  }

  async toStorage(plaintext: Uint8Array): Promise<Uint8Array> {
    const nonce = this.random(24);
    return Buffer.concat([nonce, xsalsa20poly1305(this.key, nonce).encrypt(plaintext)]);
  }
}
