/**
 * Token lifetimes, as pure functions of the clock (after Vault's `framework.CalculateTTL`):
 * - a non-periodic token lives at most the system max TTL from its creation, whatever its renewals;
 * - a periodic token's TTL is its period (itself capped at the system max), reset on each renewal,
 *   with no lifetime limit but `explicit_max_ttl`;
 * - `explicit_max_ttl` is a hard limit from creation for every token;
 * - a child never outlives its parent (Arca is stricter than Vault here: the child's expiry is capped
 *   at the parent's, so a parent's expiry cuts its children at the same instant).
 * Times are unix seconds; an `expireAt` of 0 means "never expires" (root tokens only).
 */

/** Vault's default and maximum token TTL (`max_lease_ttl`, 32 days). */
export const SYSTEM_MAX_TTL = 768 * 3600;

/**
 * The longest duration the API accepts: Go's `time.Duration` limit (2^63 ns, ~292 years), so any value
 * a Vault client can send passes the range check and is then capped; beyond it the request is refused.
 */
export const MAX_DURATION_SECONDS = 9_223_372_036;

/** `num_uses` upper bound (a 32-bit count; 0 = unlimited). */
export const MAX_NUM_USES = 2_147_483_647;

/** The last second a Date can print in RFC 3339 without a 5-digit year (9999-12-31T23:59:59Z). */
export const MAX_EXPIRE_AT = 253_402_300_799;

export interface Lifetime {
  /** Unix seconds; 0 = never expires. */
  expireAt: number;
  /** Seconds granted (0 for a non-expiring token). */
  ttl: number;
  /** True when a limit cut the TTL that was asked for. */
  capped: boolean;
}

export interface TtlRequest {
  now: number;
  createdAt: number;
  /** Asked TTL (create `ttl`, renew `increment` or the previous TTL); 0 = default. */
  ttl: number;
  period: number;
  explicitMaxTtl: number;
  /** Root tokens may be non-expiring; every other token gets the default TTL. */
  root: boolean;
  /** The parent's expiry (0 = never, undefined = orphan). */
  parentExpireAt?: number | undefined;
  maxTtl?: number;
}

export function lifetime(r: TtlRequest): Lifetime {
  const max = r.maxTtl ?? SYSTEM_MAX_TTL;
  let want: number;
  let limit = Number.POSITIVE_INFINITY;
  if (r.period > 0) {
    want = Math.min(r.period, max);
  } else if (r.ttl > 0 || !r.root) {
    want = r.ttl > 0 ? r.ttl : max;
    limit = r.createdAt + max;
  } else {
    // A root token without a TTL never expires, unless an explicit max or a mortal parent bounds it.
    want = 0;
  }
  if (r.explicitMaxTtl > 0) limit = Math.min(limit, r.createdAt + r.explicitMaxTtl);
  if (r.parentExpireAt !== undefined && r.parentExpireAt > 0) limit = Math.min(limit, r.parentExpireAt);
  let expireAt = want > 0 ? r.now + want : Number.POSITIVE_INFINITY;
  const capped = want > 0 && expireAt > limit;
  expireAt = Math.min(expireAt, limit);
  if (expireAt === Number.POSITIVE_INFINITY) return { expireAt: 0, ttl: 0, capped: false };
  return { expireAt, ttl: Math.max(0, expireAt - r.now), capped };
}

/** A stored number made safe to compute with and print (records written before range checks). */
export function sane(n: unknown, max: number): number {
  const v = typeof n === 'number' && Number.isFinite(n) ? Math.floor(n) : 0;
  return Math.min(Math.max(v, 0), max);
}
