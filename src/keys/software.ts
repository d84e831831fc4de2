/**
 * SoftwareKeyBackend (`aes256-gcm96`): the key version's material is the ref itself, 32 random
 * bytes that the caller keeps only inside the barrier. AES-256-GCM via crypto/aead.ts.
 */
import { DECRYPT_FAILED, KEY_LEN, open, randomKey, seal, wipe } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import type { KeyBackend } from './backend.ts';

export class SoftwareKeyBackend implements KeyBackend {
  readonly type = 'aes256-gcm96' as const;

  async createVersion(_versionId: string): Promise<Uint8Array> {
    return randomKey();
  }

  async encrypt(ref: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (ref.length !== KEY_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', `software key reference must be ${KEY_LEN} bytes`);
    return seal(ref, plaintext, aad);
  }

  async decrypt(ref: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    // The contract: every failure, including an unusable ref, is the same ERR_CRYPTO_DECRYPT.
    if (ref.length !== KEY_LEN) throw new ArcaError('ERR_CRYPTO_DECRYPT', DECRYPT_FAILED);
    const pt = open(ref, ciphertext, aad, 'ERR_CRYPTO_DECRYPT');
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength);
  }

  /**
   * The material lives in the caller's ref, so destroying means wiping that buffer in place (the
   * caller must also delete its stored copy). Afterwards the ref decrypts nothing.
   */
  async destroyVersion(ref: Uint8Array): Promise<void> {
    wipe(ref);
  }

  async close(): Promise<void> {}
}
