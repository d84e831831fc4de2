/**
 * Password hashing for userpass: node:crypto scrypt (memory-hard).
 * Parameters: N = 2^15, r = 8, p = 1 (32 MiB of memory per hash, the OWASP minimum for scrypt is
 * N = 2^17 with r = 8, p = 1 or equivalent; 2^15 keeps a login well under 200 ms on a shared core
 * while still costing an attacker 32 MiB per guess), 16-byte random salt, 32-byte output. The
 * parameters are stored with each hash so they can be raised without breaking stored users.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PasswordHash {
  alg: 'scrypt';
  n: number;
  r: number;
  p: number;
  salt: string; // base64
  hash: string; // base64
}

export const SCRYPT = { n: 2 ** 15, r: 8, p: 1, keyLen: 32 } as const;

function scrypt(pw: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(pw.normalize('NFC'), salt, SCRYPT.keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(pw: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await scrypt(pw, salt, SCRYPT.n, SCRYPT.r, SCRYPT.p);
  return { alg: 'scrypt', n: SCRYPT.n, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** A stored hash for unknown users, so "no such user" costs the same work as a wrong password. */
let dummy: Promise<PasswordHash> | undefined;

/** Constant-time comparison of the derived key; `h` undefined = unknown user (still does the work, answers false). */
export async function verifyPassword(pw: string, h: PasswordHash | undefined): Promise<boolean> {
  if (!dummy) dummy = hashPassword(randomBytes(16).toString('hex'));
  const target = h ?? (await dummy);
  const ok = Number.isSafeInteger(target.n) && target.n >= 2 && target.n <= 2 ** 20 && target.r >= 1 && target.r <= 32 && target.p >= 1 && target.p <= 16;
  if (!ok) return false;
  const want = Buffer.from(target.hash, 'base64');
  const got = await scrypt(pw, Buffer.from(target.salt, 'base64'), target.n, target.r, target.p);
  return want.length === got.length && timingSafeEqual(want, got) && h !== undefined;
}
