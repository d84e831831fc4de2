import { ArcaError } from '../../errors/index.ts';
import { vInt, vIntList } from '../fields.ts';

/** Vault's missing-key answer: 404 with `{"errors":[]}` (an ERR_NOT_FOUND with no message). */
export function notFound(): ArcaError {
  return new ArcaError('ERR_NOT_FOUND', '');
}

export function invalid(message: string, field?: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message, field === undefined ? {} : { details: { field } });
}

function fieldError(field: string, v: unknown, what: string): ArcaError {
  const shown = JSON.stringify(v)?.slice(0, 40) ?? String(v);
  return invalid(`Field validation failed: error converting input ${shown} for field "${field}": ${what}`, field);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const BAD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

/**
 * Checks a secret path (relative to data/ or metadata/): no empty, '.' or '..' segments, no control
 * characters. `dir` allows the trailing '/' of a LIST.
 */
export function checkPath(path: string, dir = false): string {
  const body = dir && path.endsWith('/') ? path.slice(0, -1) : path;
  if (body === '' && dir) return path;
  if (body === '') throw invalid('missing secret path');
  if (!dir && path.endsWith('/')) throw invalid("cannot use a secret path ending in '/'");
  // One scan instead of split('/') (an array per request): a segment that is empty, '.' or '..'.
  if (BAD_SEGMENT.test(body)) throw invalid('invalid secret path: empty, "." or ".." segment');
  if (/\p{Cc}/u.test(body)) throw invalid('invalid secret path: control character');
  return path;
}

/** The `data` map of a write or patch: required, must be a JSON object. */
export function dataField(body: Record<string, unknown>): Record<string, unknown> {
  const d = body['data'];
  if (d === undefined || d === null) throw invalid('no data provided', 'data');
  if (!isPlainObject(d)) throw fieldError('data', d, 'expected a map');
  return d;
}

/** `options.cas`, weakly typed; undefined when absent. */
export function casOption(body: Record<string, unknown>): number | undefined {
  const o = body['options'];
  if (o === undefined || o === null) return undefined;
  if (!isPlainObject(o)) throw fieldError('options', o, 'expected a map');
  const c = o['cas'];
  if (c === undefined || c === null) return undefined;
  const r = vInt.safeParse(c);
  if (!r.success || r.data < 0) throw invalid('error parsing check-and-set parameter', 'options.cas');
  return r.data;
}

/** `?version=N` on reads: 0 or absent = current. */
export function versionParam(q: Record<string, unknown>): number {
  const v = q['version'];
  if (v === undefined || v === '') return 0;
  const r = vInt.safeParse(v);
  if (!r.success || r.data < 0) throw fieldError('version', v, 'expected a non-negative integer');
  return r.data;
}

/** `versions` of delete/undelete/destroy (ints, numeric strings, or "1,2"). */
export function versionsField(body: Record<string, unknown>, missingMessage: string): number[] {
  const v = body['versions'];
  if (v === undefined || v === null) throw invalid(missingMessage, 'versions');
  const r = vIntList.safeParse(v);
  if (!r.success) throw fieldError('versions', v, 'expected a list of integers');
  if (r.data.length === 0) throw invalid(missingMessage, 'versions');
  return r.data;
}

/** RFC 7396 JSON merge patch; `null` removes a key, objects merge recursively. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = {};
  if (isPlainObject(target)) for (const [k, v] of Object.entries(target)) define(out, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else define(out, k, mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

/** Plain assignment would let a `__proto__` key from JSON replace the prototype. */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
