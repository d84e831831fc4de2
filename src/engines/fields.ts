import { z } from 'zod';
import { ArcaError, type ErrorCode, isArcaError } from '../errors/index.ts';
import { type DurationOptions, parseDuration } from '../units/index.ts';

/**
 * Vault's weakly typed request fields (numbers as strings from query strings, "1h" durations,
 * comma-separated lists), as zod schemas. Engines parse `req.data` with these.
 *
 * Every number and duration has a range; a value outside it is ERR_FIELD_OUT_OF_RANGE (400) naming
 * the field and the range, so nothing the API accepts can later fail to load or print. Messages
 * never quote the value: it may be a secret sent in the wrong field.
 */

/** Carried in a zod issue's params so parseFields can throw the right code. */
interface IssueParams {
  arcaCode?: ErrorCode;
}

function fail(ctx: z.core.$RefinementCtx, message: string, arcaCode: ErrorCode = 'ERR_INVALID_REQUEST'): never {
  ctx.addIssue({ code: 'custom', message, params: { arcaCode } satisfies IssueParams });
  return z.NEVER;
}

export const vBool = z.union([z.boolean(), z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 't', 'true'].includes(s)) return true;
  if (['0', 'f', 'false', ''].includes(s)) return false;
  return fail(ctx, 'expected a boolean');
});

/** The largest integer any field accepts (beyond it JSON numbers lose precision). */
export const MAX_INT = Number.MAX_SAFE_INTEGER;

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i;

/** An integer in [min, max]; numeric strings are accepted as Vault does. ±Infinity and 1e20 are out of range. */
export function toInt(v: unknown, min: number, max: number): number | { error: string; code: ErrorCode } {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : Number.NaN;
  if (Number.isNaN(n) || (Number.isFinite(n) && !Number.isInteger(n))) return { error: 'expected an integer', code: 'ERR_INVALID_REQUEST' };
  if (n < min || n > max) return { error: `must be an integer between ${min} and ${max}`, code: 'ERR_FIELD_OUT_OF_RANGE' };
  return n === 0 ? 0 : n;
}

/**
 * A zod schema for an integer field in [min, max]. The int and duration schemas take `unknown` and
 * check the type themselves: z.number() would refuse a JSON 1e400 (Infinity) as "Invalid input"
 * where it is simply out of range.
 */
export function vIntIn(min: number, max: number) {
  return z.unknown().transform((v, ctx) => {
    const r = toInt(v, min, max);
    return typeof r === 'number' ? r : fail(ctx, r.error, r.code);
  });
}

export const vInt = vIntIn(-MAX_INT, MAX_INT);

/** A zod schema for a duration field in seconds (see units/duration for syntax and defaults). */
export function vDurationIn(o: Omit<DurationOptions, 'field' | 'unit'> = {}) {
  return z.unknown().transform((v, ctx) => {
    try {
      return parseDuration(v, o);
    } catch (err) {
      if (isArcaError(err)) return fail(ctx, err.message, err.code);
      throw err;
    }
  });
}

/** Non-negative seconds up to Go's maximum duration. */
export const vDuration = vDurationIn();

export const vStringList = z.union([z.array(z.string()), z.string()]).transform((v) =>
  (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
);

/** A list of integers in [min, max]: an array, a number, or "1,2,3". */
export function vIntListIn(min: number, max: number) {
  return z.union([z.array(z.union([z.number(), z.string()])), z.string(), z.number()]).transform((v, ctx) => {
    const items = Array.isArray(v) ? v : typeof v === 'number' ? [v] : v.split(',');
    const out: number[] = [];
    for (const it of items) {
      const r = toInt(typeof it === 'string' ? it.trim() : it, min, max);
      if (typeof r !== 'number') return fail(ctx, r.error === 'expected an integer' ? 'expected a list of integers' : `every item ${r.error}`, r.code);
      out.push(r);
    }
    return out;
  });
}

export const vIntList = vIntListIn(-MAX_INT, MAX_INT);

/** Vault treats a JSON null like an absent field; zod's `.optional()` does not, so they are dropped. */
export function withoutNulls(data: Record<string, unknown>): Record<string, unknown> {
  let clean: Record<string, unknown> | undefined;
  for (const k in data) {
    if (data[k] === null) {
      clean ??= { ...data };
      delete clean[k];
    }
  }
  return clean ?? data;
}

/**
 * Parses request data with a schema (top-level nulls = absent); failures become a 400 naming the
 * field: ERR_FIELD_OUT_OF_RANGE with the allowed range, else Vault's "Field validation failed".
 */
export function parseFields<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const input = typeof data === 'object' && data !== null && !Array.isArray(data) ? withoutNulls(data as Record<string, unknown>) : data;
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw fieldError(r.error.issues[0]);
}

function fieldError(top: z.core.$ZodIssue | undefined): ArcaError {
  const field = top?.path.join('.') ?? '';
  // In a union, the branch that got as far as a range check says more than "Invalid input".
  const issue = top?.code === 'invalid_union' ? (top.errors.flat().find((i) => paramsOf(i)?.arcaCode) ?? top) : top;
  const params = paramsOf(issue);
  const message = issue?.message ?? 'invalid';
  if (params?.arcaCode === 'ERR_FIELD_OUT_OF_RANGE') return outOfRange(field, message);
  return new ArcaError('ERR_INVALID_REQUEST', `Field validation failed: error converting input for field "${field}": ${message}`, {
    details: { field },
  });
}

const IGNORED_LISTED = 16;
const IGNORED_NAME_CHARS = 64;

/**
 * Vault's warning for body fields an endpoint does not take (`known`: its schema, or the field names
 * a hand-written parser reads): it ignores them and says so ("Endpoint ignored these unrecognized
 * parameters: [a b]"). Names only, never values; at most
 * IGNORED_LISTED names of at most IGNORED_NAME_CHARS characters each.
 */
export function ignoredFieldsWarning(known: z.ZodObject | readonly string[], data: Record<string, unknown>): string[] {
  const takes = Array.isArray(known) ? (k: string) => known.includes(k) : (k: string) => Object.hasOwn((known as z.ZodObject).shape, k);
  const unknown = Object.keys(data).filter((k) => !takes(k)).sort();
  if (unknown.length === 0) return [];
  const names = unknown.slice(0, IGNORED_LISTED).map((k) => (k.length > IGNORED_NAME_CHARS ? `${k.slice(0, IGNORED_NAME_CHARS)}…` : k));
  if (unknown.length > IGNORED_LISTED) names.push(`(${unknown.length - IGNORED_LISTED} more)`);
  return [`Endpoint ignored these unrecognized parameters: [${names.join(' ')}]`];
}

/** A successful answer with Vault's ignored-fields warning added to its own warnings (errors are left as they are). */
export function withIgnoredFields<R extends { status?: number; warnings?: string[] }>(res: R, known: z.ZodObject | readonly string[], data: Record<string, unknown>): R {
  const warnings = ignoredFieldsWarning(known, data);
  if (warnings.length === 0 || (res.status ?? 200) >= 300) return res;
  return { ...res, warnings: [...(res.warnings ?? []), ...warnings] };
}

/** What a write that answers nothing else returns: Vault's ignored-fields warning, or no body. */
export function ignoredFieldsResponse(known: z.ZodObject | readonly string[], data: Record<string, unknown>): { data: null; warnings: string[] } | undefined {
  const warnings = ignoredFieldsWarning(known, data);
  return warnings.length ? { data: null, warnings } : undefined;
}

/** Role names (kubernetes, OIDC and token roles, PKI roles): 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit. */
export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** `name` if it is a valid role name (ROLE_NAME), else a 400 naming `field`. */
export function checkRoleName(name: string, field = 'name'): string {
  if (!ROLE_NAME.test(name)) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid role name: use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit', { details: { field } });
  return name;
}

/** A 400 naming the field and what it must be (`what` states the allowed range, never the value). */
export function outOfRange(field: string, what: string): ArcaError {
  return new ArcaError('ERR_FIELD_OUT_OF_RANGE', `field "${field}" ${what}`, { details: { field } });
}

/** The code a schema issue carries (set by the range-checked schemas above). */
export function issueCode(issue: z.core.$ZodIssue | undefined): ErrorCode {
  return paramsOf(issue)?.arcaCode ?? 'ERR_INVALID_REQUEST';
}

function paramsOf(issue: z.core.$ZodIssue | undefined): IssueParams | undefined {
  return (issue as { params?: IssueParams } | undefined)?.params;
}

/** Checks one already-extracted value against a schema, with the same errors as parseFields. */
export function parseField<S extends z.ZodType>(schema: S, field: string, v: unknown): z.output<S> {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw fieldError(issue ? { ...issue, path: [field] } : undefined);
}
