/**
 * TOTP (RFC 6238) with the `otpauth` library: SHA-1, 6 digits, 30-second steps (what authenticator
 * apps accept everywhere), a window of ±1 step for clock drift. A code is bound to its step so the
 * caller can refuse any step at or before the last one used (each code works once).
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30, window: 1, keySize: 20 } as const;

export function newSecret(): string {
  return new Secret({ size: TOTP_PARAMS.keySize }).base32;
}

function totp(secret: string, issuer: string, label: string): TOTP {
  return new TOTP({ issuer, label, algorithm: TOTP_PARAMS.algorithm, digits: TOTP_PARAMS.digits, period: TOTP_PARAMS.period, secret: Secret.fromBase32(secret) });
}

export function otpauthUrl(secret: string, issuer: string, label: string): string {
  return totp(secret, issuer, label).toString();
}

/** The step a code belongs to (within ±window of `nowMs`), or undefined when it matches none. */
export function codeStep(secret: string, code: string, nowMs: number): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totp(secret, 'arca', 'x').validate({ token: code, timestamp: nowMs, window: TOTP_PARAMS.window });
  if (delta === null) return undefined;
  return Math.floor(nowMs / 1000 / TOTP_PARAMS.period) + delta;
}

/** The code for a moment (tests and the CLI's self-check). */
export function codeAt(secret: string, nowMs: number): string {
  return totp(secret, 'arca', 'x').generate({ timestamp: nowMs });
}

/** Ten single-use recovery codes (80 random bits each), shown once; only their SHA-256 is stored. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: 10 }, () => randomBytes(10).toString('hex').match(/.{4}/g)!.join('-'));
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.trim().toLowerCase()).digest('hex');
}

/** Index of the stored hash matching `code` (constant-time per comparison), or -1. */
export function findRecoveryCode(hashes: readonly string[], code: string): number {
  const h = Buffer.from(hashRecoveryCode(code), 'hex');
  let found = -1;
  hashes.forEach((x, i) => {
    const b = Buffer.from(x, 'hex');
    if (b.length === h.length && timingSafeEqual(b, h) && found < 0) found = i;
  });
  return found;
}
