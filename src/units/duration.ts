/**
 * The one duration parser and formatter of Arca (API fields, CLI flags, EncryptionConfiguration).
 *
 * Syntax is Go's `time.ParseDuration` (`1h30m`, `90s`, `1.5h`, `-2m`, `500ms`, `.5s`), plus what
 * Vault's `parseutil.ParseDurationSecond` adds: a `d` unit and a plain number (JSON number or digit
 * string) counted in the caller's unit. Both extras can be turned off (Kubernetes accepts neither).
 *
 * Arithmetic is done in integer nanoseconds with BigInt so `1.001s` is exactly 1001 ms and a huge
 * value cannot round into range; parsing is never on a hot path. Every value is range-checked
 * before it is returned: the default ceiling is Go's (int64 nanoseconds, about 292 years), so a
 * stored duration can always be added to a timestamp and printed again.
 */
import { ArcaError } from '../errors/index.ts';

export type DurationUnit = 'ms' | 's';

export interface DurationOptions {
  /** Named in error messages (a field or a flag), never the value. */
  field?: string;
  /** Unit of the result and of a plain number. Default 's'. */
  unit?: DurationUnit;
  /** Inclusive bounds in `unit`. Defaults: 0 and MAX_DURATION (or -MAX_DURATION with allowNegative). */
  min?: number;
  max?: number;
  /** Accept a leading '-' (Go does; Vault uses -1 as "disabled" for some fields). */
  allowNegative?: boolean;
  /** Accept a plain number as a count of `unit` (Vault). Default true. Go's lone "0" is always accepted. */
  plainNumber?: boolean;
  /** Accept the `d` (24h) unit (Vault). Default true. */
  days?: boolean;
}

const NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};
const UNIT_NS: Record<DurationUnit, bigint> = { ms: 1_000_000n, s: 1_000_000_000n };
/** Go's maximum time.Duration (2^63-1 ns). */
const MAX_NS = 2n ** 63n - 1n;
/** The longest duration any field may hold, per unit (Go's limit, truncated). */
export const MAX_DURATION: Readonly<Record<DurationUnit, number>> = Object.freeze({
  s: Number(MAX_NS / UNIT_NS.s),
  ms: Number(MAX_NS / UNIT_NS.ms),
});

const TERM = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h|d)/y;
const PLAIN = /^[+-]?\d+$/;
/** Longer inputs are refused before any work: no legitimate duration is this long. */
const MAX_INPUT = 64;

/** Parses `v` (a string or a number) into an integer count of `o.unit`, range-checked. */
export function parseDuration(v: unknown, o: DurationOptions = {}): number {
  const unit = o.unit ?? 's';
  const ns = toNanoseconds(v, o, unit);
  if (ns === undefined) throw malformed(o);
  const max = o.max ?? MAX_DURATION[unit];
  const min = o.min ?? (o.allowNegative ? -MAX_DURATION[unit] : 0);
  // Compared in nanoseconds first: a huge input must not become a Number that rounds into range.
  if (ns > MAX_NS || ns < -MAX_NS) throw outOfRange(o, min, max, unit);
  const n = Number(ns / UNIT_NS[unit]);
  if (n < min || n > max || (n < 0 && !o.allowNegative)) throw outOfRange(o, min, max, unit);
  return n === 0 ? 0 : n; // no -0
}

function toNanoseconds(v: unknown, o: DurationOptions, unit: DurationUnit): bigint | undefined {
  if (typeof v === 'number') {
    if (o.plainNumber === false && v !== 0) return undefined;
    if (Number.isNaN(v)) return undefined;
    if (!Number.isFinite(v) || Math.abs(v) > 2 ** 63) return v > 0 ? MAX_NS + 1n : -MAX_NS - 1n;
    return BigInt(Math.trunc(v)) * UNIT_NS[unit];
  }
  if (typeof v !== 'string') return undefined;
  let s = v.trim();
  if (s === '' || s.length > MAX_INPUT) return undefined;
  if (PLAIN.test(s)) {
    if (o.plainNumber === false && BigInt(s) !== 0n) return undefined;
    return BigInt(s) * UNIT_NS[unit];
  }
  let sign = 1n;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1n;
    s = s.slice(1);
  }
  let total = 0n;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < s.length) {
    const at = TERM.lastIndex;
    const m = TERM.exec(s);
    if (!m || m.index !== at) return undefined;
    const [, int = '', frac = '', u = ''] = m;
    if (int === '' && frac === '') return undefined;
    if (u === 'd' && o.days === false) return undefined;
    const scale = NS[u]!;
    total += BigInt(int || '0') * scale;
    if (frac !== '') total += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
  }
  return sign * total;
}

/** The field or flag, or nothing: a caller without one (a zod schema) prefixes its own. */
function subject(o: DurationOptions): string {
  return o.field === undefined ? '' : `${o.field} `;
}

function malformed(o: DurationOptions): ArcaError {
  const plain = o.plainNumber === false ? '' : ` or a number of ${o.unit === 'ms' ? 'milliseconds' : 'seconds'}`;
  return new ArcaError('ERR_INVALID_REQUEST', `${subject(o)}must be a duration such as "90s", "1h30m" or "1.5h"${plain}`, {
    details: o.field === undefined ? {} : { field: o.field },
  });
}

function outOfRange(o: DurationOptions, min: number, max: number, unit: DurationUnit): ArcaError {
  return new ArcaError('ERR_FIELD_OUT_OF_RANGE', `${subject(o)}must be between ${formatDuration(min, unit)} and ${formatDuration(max, unit)}`, {
    details: { ...(o.field === undefined ? {} : { field: o.field }), min, max, unit },
  });
}

/**
 * Go's `time.Duration.String()` of an integer count of `unit`: "0s", "500ms", "1.5s", "1h0m0s".
 * parseDuration reads back exactly what this writes.
 */
export function formatDuration(value: number, unit: DurationUnit = 's'): string {
  if (!Number.isFinite(value)) return String(value);
  let ns = BigInt(Math.trunc(value)) * UNIT_NS[unit];
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  if (ns < 0n) ns = -ns;
  if (ns < NS.s!) {
    if (ns < NS.us!) return `${sign}${ns}ns`;
    if (ns < NS.ms!) return `${sign}${decimal(ns, NS.us!)}µs`;
    return `${sign}${decimal(ns, NS.ms!)}ms`;
  }
  const h = ns / NS.h!;
  const m = (ns % NS.h!) / NS.m!;
  const secs = decimal(ns % NS.m!, NS.s!);
  if (h > 0n) return `${sign}${h}h${m}m${secs}s`;
  if (m > 0n) return `${sign}${m}m${secs}s`;
  return `${sign}${secs}s`;
}

/** `n / scale` in decimal, without trailing zeros in the fraction. */
function decimal(n: bigint, scale: bigint): string {
  const whole = n / scale;
  const rest = n % scale;
  if (rest === 0n) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
