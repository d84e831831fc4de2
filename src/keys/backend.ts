/**
 * Where key-encryption-key material lives. One narrow interface, two implementations:
 *   - software (`aes256-gcm96`): the version's key bytes are kept only inside the barrier;
 *   - HSM (`hsm-aes256-gcm96`): each version is a non-extractable AES key object in a PKCS#11 token.
 * Both produce the same ciphertext layout: nonce(12) ‖ ciphertext ‖ tag(16), AES-256-GCM with `aad`.
 * Every implementation runs `exerciseKeyBackend` (keys/conformance.ts).
 */
import type { HsmEcKeys } from './pkcs11/hsm-ec.ts';

export type KeyType = 'aes256-gcm96' | 'hsm-aes256-gcm96';

export interface KeyBackend {
  readonly type: KeyType;
  /**
   * Creates the material for a new key version. `versionId` is globally unique and never reused
   * (a UUID chosen by the caller). Returns the opaque reference the caller persists inside the
   * barrier: the raw key for software keys, the PKCS#11 object's CKA_ID for HSM keys.
   */
  createVersion(versionId: string): Promise<Uint8Array>;
  encrypt(ref: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Any failure (wrong key, tampering, truncation) throws ArcaError('ERR_CRYPTO_DECRYPT') with one fixed message. */
  decrypt(ref: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Removes the material for good (HSM: C_DestroyObject; software: nothing to do beyond the caller deleting the ref). */
  destroyVersion(ref: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** HSM backends: non-extractable EC signing keys on the same token (pki CA keys). */
  ecKeys?(): HsmEcKeys;
}
