/**
 * Where the plugin's key-encryption key lives. The plugin itself only ever holds a local KEK; a
 * KeySource wraps and unwraps that local KEK under the real KEK (a transit key on the Arca server,
 * or a non-extractable AES key in an HSM), and says which key_id names which KEK version.
 *
 * Every method may do I/O (network, PKCS#11) and is only called from the health loop or on a
 * Decrypt cache miss — never from Status, and never from Encrypt.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';

export interface KeyMeta {
  /** key_id of the version new local KEKs are wrapped under. Never reused, even across delete+recreate. */
  currentKeyId: string;
  /**
   * Whether a key_id may still decrypt (e.g. ≥ min_decryption_version), as far as the source knows;
   * used to evict cache entries after the key's policy changed.
   */
  allows(keyId: string): boolean;
}

export interface WrappedKek {
  keyId: string;
  wrapped: Uint8Array;
}

export interface KeySource {
  /** For logs and the v1beta1 runtime name, e.g. `transit/orders` or `pkcs11/arca-kms`. */
  readonly description: string;
  /** Reads the key's current version and policy. */
  refresh(): Promise<KeyMeta>;
  /** Wraps a local KEK under the key's current version; returns the key_id actually used. */
  wrap(kek: Uint8Array): Promise<WrappedKek>;
  /** Unwraps a local KEK. ERR_KMS_KEY_ID_UNKNOWN if key_id names no version of the key. */
  unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array>;
  /** A real encrypt+decrypt round trip of a throwaway value; throws with a coded error on failure. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** Additional data bound to every wrapped local KEK, so the KEK cannot be confused with other data. */
export const KEK_AAD = 'arca kms-plugin local kek v1';

/**
 * The probe every source runs: wraps a throwaway value and unwraps it again. Different bytes back
 * fail with the source's own code (its errors on the way out keep theirs).
 */
export async function roundTrip(
  source: Pick<KeySource, 'wrap' | 'unwrap'>,
  code: 'ERR_HSM_UNAVAILABLE' | 'ERR_KMS_PLUGIN_RESPONSE',
  message: string,
): Promise<void> {
  const value = randomBytes(32);
  const { keyId, wrapped } = await source.wrap(value);
  const back = await source.unwrap(keyId, wrapped);
  if (back.length !== value.length || !timingSafeEqual(back, value)) throw new ArcaError(code, message);
}
