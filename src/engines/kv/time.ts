/** RFC 3339 has four-digit years: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
const MIN_TIME_MS = -62_167_219_200_000;
const MAX_TIME_MS = 253_402_300_799_000;

/**
 * Formats a millisecond timestamp (possibly fractional, as ctx.now() may return) the way Vault's KV
 * engine prints protobuf timestamps: RFC 3339 UTC with the fraction trimmed in groups of 3 digits.
 * A double holding epoch milliseconds is exact to about 0.25 µs, so the fraction is kept to the
 * microsecond (Vault prints nanoseconds; clients parse any RFC 3339 fraction).
 */
export function formatTime(ms: number): string {
  if (ms === 0) return '';
  // A record written before durations were range-checked may hold a time past what RFC 3339 (or Date) can print.
  if (!(ms >= MIN_TIME_MS && ms <= MAX_TIME_MS)) ms = ms < 0 ? MIN_TIME_MS : MAX_TIME_MS;
  // A version's times never change and every read of it prints them: remember recent ones
  // (formatting was ~2% of a KV read's CPU). Bounded: dropped when full.
  let s = formatted.get(ms);
  if (s === undefined) {
    s = formatTimeUncached(ms);
    if (formatted.size >= FORMATTED_MAX) formatted.clear();
    formatted.set(ms, s);
  }
  return s;
}

const formatted = new Map<number, string>();
const FORMATTED_MAX = 4096;

function formatTimeUncached(ms: number): string {
  const micros = Math.round(ms * 1000);
  const frac = ((micros % 1e6) + 1e6) % 1e6;
  const base = new Date((micros - frac) / 1000).toISOString().slice(0, 19);
  if (frac === 0) return `${base}Z`;
  let f = String(frac * 1000).padStart(9, '0');
  while (f.endsWith('000')) f = f.slice(0, -3);
  return `${base}.${f}Z`;
}
