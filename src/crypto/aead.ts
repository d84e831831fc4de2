/**
 * AES-256-GCM with a 96-bit random nonce and 128-bit tag (node:crypto). PURE: the nonce source is
 * injectable; no I/O, no logging. Layout: nonce(12) ‖ ciphertext ‖ tag(16).
 *
 * Random 96-bit nonces are safe for up to 2^32 messages per key (NIST SP 800-38D §8.3); the barrier
 * rotates terms long before that (see barrier/keyring.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import { NONCE_BYTES, randomNonce } from './nonce.ts';

export const NONCE_LEN = NONCE_BYTES;
export const TAG_LEN = 16;
export const KEY_LEN = 32;

/** The one message every authentication failure gives (reason to debug logs only). */
export const DECRYPT_FAILED = 'message authentication failed';

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array = randomNonce()): Uint8Array {
  if (key.length !== KEY_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'AES-256-GCM needs a 32-byte key');
  if (nonce.length !== NONCE_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'AES-GCM nonce must be 12 bytes');
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
  c.setAAD(aad);
  const body = c.update(plaintext);
  const fin = c.final();
  const out = new Uint8Array(NONCE_LEN + body.length + fin.length + TAG_LEN);
  out.set(nonce, 0);
  out.set(body, NONCE_LEN);
  out.set(fin, NONCE_LEN + body.length);
  out.set(c.getAuthTag(), NONCE_LEN + body.length + fin.length);
  return out;
}

export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, code: 'ERR_CRYPTO_DECRYPT' | 'ERR_BARRIER_DECRYPT' = 'ERR_CRYPTO_DECRYPT'): Uint8Array {
  if (key.length !== KEY_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'AES-256-GCM needs a 32-byte key');
  if (sealed.length < NONCE_LEN + TAG_LEN) throw new ArcaError(code, DECRYPT_FAILED);
  const nonce = sealed.subarray(0, NONCE_LEN);
  const tag = sealed.subarray(sealed.length - TAG_LEN);
  const body = sealed.subarray(NONCE_LEN, sealed.length - TAG_LEN);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
    d.setAAD(aad);
    d.setAuthTag(tag);
    const a = d.update(body);
    const b = d.final();
    return b.length ? Buffer.concat([a, b]) : a;
  } catch {
    throw new ArcaError(code, DECRYPT_FAILED);
  }
}

/** Overwrites key material in place. JS cannot guarantee no copies exist; this limits their lifetime. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_LEN));
}
