/**
 * The plugin's ciphertext (what the apiserver stores as EncryptedObject.encryptedDEKSource, and the
 * v1beta1 `cipher`). Self-contained, so v1beta1 (which has no key_id and no annotations) and v2 read
 * the same bytes, and Decrypt never needs state the plugin may have lost in a restart:
 *
 *   0x01                      format version
 *   u8  n, key_id (n bytes)   UTF-8 key_id of the remote/HSM key version that wrapped the local KEK
 *   u16 m (big-endian), wrapped local KEK (m bytes)
 *   nonce(12) ‖ AES-256-GCM(local KEK, plaintext) ‖ tag(16)
 *
 * The AAD of the GCM part is everything before the nonce (the header), so the key_id and the wrapped
 * KEK cannot be swapped without the tag failing. PURE: no I/O.
 */
import { NONCE_LEN, TAG_LEN } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';

export const FORMAT_V1 = 0x01;
/** The apiserver refuses an encryptedDEKSource over 1024 bytes (EncryptedObject validation). */
export const MAX_CIPHERTEXT = 1024;
export const MAX_KEY_ID = 255;

export interface ParsedCiphertext {
  keyId: string;
  wrappedKek: Uint8Array;
  /** The header bytes: the AAD of `sealed`. */
  header: Uint8Array;
  /** nonce ‖ ciphertext ‖ tag */
  sealed: Uint8Array;
}

/** One fixed message for every malformed or tampered ciphertext (the reason goes to debug logs). */
export const CIPHERTEXT_INVALID = 'ciphertext is malformed or was not produced by this plugin';

export function encodeHeader(keyId: string, wrappedKek: Uint8Array): Uint8Array {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length === 0 || id.length > MAX_KEY_ID) throw new ArcaError('ERR_INTERNAL', `key_id must be 1 to ${MAX_KEY_ID} bytes`);
  if (wrappedKek.length === 0 || wrappedKek.length > 0xffff) throw new ArcaError('ERR_INTERNAL', 'wrapped KEK has an impossible size');
  const out = new Uint8Array(1 + 1 + id.length + 2 + wrappedKek.length);
  out[0] = FORMAT_V1;
  out[1] = id.length;
  out.set(id, 2);
  const p = 2 + id.length;
  out[p] = wrappedKek.length >> 8;
  out[p + 1] = wrappedKek.length & 0xff;
  out.set(wrappedKek, p + 2);
  return out;
}

export function parseCiphertext(ct: Uint8Array): ParsedCiphertext {
  const bad = () => new ArcaError('ERR_CRYPTO_DECRYPT', CIPHERTEXT_INVALID);
  if (ct.length < 2 || ct[0] !== FORMAT_V1) throw bad();
  const n = ct[1]!;
  if (n === 0 || ct.length < 2 + n + 2) throw bad();
  const keyId = Buffer.from(ct.buffer, ct.byteOffset + 2, n).toString('utf8');
  const p = 2 + n;
  const m = (ct[p]! << 8) | ct[p + 1]!;
  const end = p + 2 + m;
  if (m === 0 || ct.length < end + NONCE_LEN + TAG_LEN) throw bad();
  return { keyId, wrappedKek: ct.subarray(p + 2, end), header: ct.subarray(0, end), sealed: ct.subarray(end) };
}
