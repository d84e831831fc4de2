/**
 * Glue over `shamir-secret-sharing` (audited). PURE.
 *
 * A share as handed to operators is `shareBytes` (the library's share: y-values ‖ x-coordinate).
 * The server keeps, per init, an HMAC-SHA256 of every share under a random per-init salt, so it can
 * tell a malformed, foreign or corrupted share from a genuine one before combining — without learning
 * anything about the secret (shares are uniformly random; an HMAC of one reveals nothing).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { ArcaError } from '../errors/index.ts';

export async function splitSecret(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (shares === 1 && threshold === 1) return [new Uint8Array([...secret, 1])];
  return split(secret, shares, threshold);
}

export async function combineShares(shares: Uint8Array[]): Promise<Uint8Array> {
  if (shares.length === 1) {
    const s = shares[0]!;
    return s.slice(0, s.length - 1);
  }
  return combine(shares);
}

export function shareFingerprint(salt: Uint8Array, share: Uint8Array): string {
  return createHmac('sha256', salt).update(share).digest('hex');
}

/** Index of the share among the init's fingerprints, or -1. Constant-time per comparison. */
export function matchShare(salt: Uint8Array, share: Uint8Array, fingerprints: readonly string[]): number {
  const fp = Buffer.from(shareFingerprint(salt, share), 'hex');
  let found = -1;
  fingerprints.forEach((f, i) => {
    const b = Buffer.from(f, 'hex');
    if (b.length === fp.length && timingSafeEqual(b, fp)) found = i;
  });
  return found;
}

export function assertShareParams(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || shares < 1 || threshold < 1 || shares > 255 || threshold > shares) {
    throw new ArcaError('ERR_SEAL_CONFIG_INVALID', 'secret_shares must be 1..255 and secret_threshold 1..secret_shares');
  }
  if (threshold === 1 && shares > 1) {
    throw new ArcaError('ERR_SEAL_CONFIG_INVALID', 'secret_threshold must be at least 2 when secret_shares is greater than 1');
  }
}
