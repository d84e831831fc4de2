import { ArcaError } from '../../errors/index.ts';
import { MAX_INT, parseField, toInt, vDurationIn, vIntIn, vIntListIn } from '../fields.ts';
import { MAX_KV_VERSIONS } from './records.ts';

/** `max_versions` (engine config and per key): Vault stores it as a uint32. */
export const MAX_VERSIONS = vIntIn(0, MAX_KV_VERSIONS);
/** `delete_version_after`: a negative value is meaningful (it disables the feature). */
export const DELETE_VERSION_AFTER = vDurationIn({ allowNegative: true });
const VERSION = vIntIn(0, MAX_INT);
const VERSIONS = vIntListIn(0, MAX_INT);

/** Vault's missing-key answer: 404 with `{"errors":[]}` (an ERR_NOT_FOUND with no message). */
export function notFound(): ArcaError {
  return new ArcaError('ERR_NOT_FOUND', '');
}

export function invalid(message: string, field?: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message, field === undefined ? {} : { details: { field } });
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
  if (!isPlainObject(d)) throw invalid('Field validation failed: error converting input for field "data": expected a map', 'data');
  return d;
}

/** `options.cas`, weakly typed; undefined when absent. */
export function casOption(body: Record<string, unknown>): number | undefined {
  const o = body['options'];
  if (o === undefined || o === null) return undefined;
  if (!isPlainObject(o)) throw invalid('Field validation failed: error converting input for field "options": expected a map', 'options');
  const c = o['cas'];
  if (c === undefined || c === null) return undefined;
  // Vault's wording for a malformed cas; a negative or huge one is out of range.
  const r = toInt(c, 0, MAX_INT);
  if (typeof r === 'number') return r;
  if (r.code === 'ERR_FIELD_OUT_OF_RANGE') return parseField(VERSION, 'options.cas', c);
  throw invalid('error parsing check-and-set parameter', 'options.cas');
}

/** `?version=N` on reads: 0 or absent = current. */
export function versionParam(q: Record<string, unknown>): number {
  const v = q['version'];
  if (v === undefined || v === '') return 0;
  return parseField(VERSION, 'version', v);
}

/** `versions` of delete/undelete/destroy (ints, numeric strings, or "1,2"). */
export function versionsField(body: Record<string, unknown>, missingMessage: string): number[] {
  const v = body['versions'];
  if (v === undefined || v === null) throw invalid(missingMessage, 'versions');
  const list = parseField(VERSIONS, 'versions', v);
  if (list.length === 0) throw invalid(missingMessage, 'versions');
  return list;
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
