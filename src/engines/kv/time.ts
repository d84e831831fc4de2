import { ArcaError } from '../../errors/index.ts';
import { parseDurationSeconds } from '../fields.ts';

/**
 * Formats a millisecond timestamp (possibly fractional, as ctx.now() may return) the way Vault's KV
 * engine prints protobuf timestamps: RFC 3339 UTC with the fraction trimmed in groups of 3 digits.
 * A double holding epoch milliseconds is exact to about 0.25 µs, so the fraction is kept to the
 * microsecond (Vault prints nanoseconds; clients parse any RFC 3339 fraction).
 */
export function formatTime(ms: number): string {
  if (ms === 0) return '';
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

/** Go's time.Duration.String() for whole seconds: "0s", "90s" → "1m30s", "3600s" → "1h0m0s". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/**
 * Parses `delete_version_after`: Vault durations, where a negative value ("-1", "-1s", -1) is
 * meaningful (it disables the feature), so the shared non-negative parser is applied to the magnitude.
 */
export function parseSignedDuration(field: string, v: unknown): number {
  if (typeof v === 'number' || typeof v === 'string') {
    const neg = typeof v === 'number' ? v < 0 : v.trim().startsWith('-');
    const mag = typeof v === 'number' ? Math.abs(v) : v.trim().replace(/^-/, '');
    const n = parseDurationSeconds(mag);
    if (n !== undefined) return neg ? -n : n;
  }
  throw new ArcaError('ERR_INVALID_REQUEST', `Field validation failed: error converting input for field "${field}": cannot parse ${JSON.stringify(v)} as a duration`, {
    details: { field },
  });
}
