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

/**
 * AES-256-GCM seal: `prefix ‖ nonce ‖ ciphertext ‖ tag` in one exact buffer of its own (callers may
 * wipe or transfer it). The barrier puts its header in `prefix`, so a value is built without a second
 * copy: buffers allocated outside the V8 heap (malloc + free + GC tracking each) were ~8% of a
 * Kubernetes login's CPU (`perf record -e cpu-clock`, 2026-12-07).
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array = randomNonce(), prefix?: Uint8Array): Uint8Array {
  if (key.length !== KEY_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'AES-256-GCM needs a 32-byte key');
  if (nonce.length !== NONCE_LEN) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'AES-GCM nonce must be 12 bytes');
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
  c.setAAD(aad);
  const body = c.update(plaintext);
  const fin = c.final();
  const p = prefix?.length ?? 0;
  const len = p + NONCE_LEN + body.length + fin.length + TAG_LEN;
  const out = new Uint8Array(len);
  if (prefix) out.set(prefix, 0);
  out.set(nonce, p);
  out.set(body, p + NONCE_LEN);
  out.set(fin, p + NONCE_LEN + body.length);
  out.set(c.getAuthTag(), p + NONCE_LEN + body.length + fin.length);
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
