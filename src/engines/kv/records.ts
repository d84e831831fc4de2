/**
 * KV v2 storage layout (inside the mount's barrier-encrypted view; values are JSON, UTF-8):
 *
 *   config                              engine config {maxVersions, casRequired, deleteVersionAfter}
 *   metadata/<path>                     one record per secret path: settings, custom_metadata and the
 *                                       version map (created/deleted/destroyed + the ref of its record)
 *   versions/<sha256(path)>/<n>-<ref>   one record per version: {data}
 *
 * Why this shape:
 * - `metadata/<path>` keeps the secret's own path as the storage key, so LIST and search are a walk
 *   of `storage.list('metadata/…')` without reading values; `a` and `a/b` coexist as `a` and `a/`.
 * - Versions live apart from metadata so a write stores one new version record plus a small metadata
 *   record (bounded by max_versions), never the whole history. The path is hashed so a path segment can
 *   never collide with a version number (`a/1` vs version 1 of `a`) and one prefix holds one path.
 * - `<ref>` is random per write. A write is ONE storage commit: put the version record, put the new
 *   metadata, delete the version records it trimmed — applied atomically and only if the metadata
 *   is still byte-identical to what the writer read (compare on plaintext through the barrier). A
 *   writer that loses the race has written nothing and retries, so it can never overwrite the
 *   winner's data, and no crash can leave an unreferenced version record behind.
 * - Times are stored as epoch milliseconds (fractional allowed) and printed RFC 3339 on the way out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { MAX_DURATION } from '../../units/index.ts';

export const CONFIG_KEY = 'config';
/** Prefix of the per-path metadata records; listing under it is the KV LIST operation. */
export const METADATA_PREFIX = 'metadata/';
/** Prefix of the per-version data records, grouped by hashed path. */
export const VERSIONS_PREFIX = 'versions/';

/** Used when both the engine config and the key say 0 (Vault's default). */
export const DEFAULT_MAX_VERSIONS = 10;
/** The API's ceiling for max_versions (Vault's uint32). */
export const MAX_KV_VERSIONS = 2 ** 32 - 1;

const storedVersion = z.object({
  created: z.number(),
  /** 0 = not deleted; may lie in the future (delete_version_after). */
  deleted: z.number(),
  destroyed: z.boolean(),
  /** Suffix of the version record key; '' once destroyed. */
  ref: z.string(),
});
export type StoredVersion = z.infer<typeof storedVersion>;

const storedMeta = z.object({
  created: z.number(),
  updated: z.number(),
  current: z.number().int(),
  oldest: z.number().int(),
  // Range-checked by clampSettings, not refused: see there.
  maxVersions: z.number(),
  casRequired: z.boolean(),
  deleteVersionAfter: z.number(),
  custom: z.record(z.string(), z.string()).nullable(),
  versions: z.record(z.string(), storedVersion),
});
export type StoredMeta = z.infer<typeof storedMeta>;

const storedConfig = z.object({
  maxVersions: z.number(),
  casRequired: z.boolean(),
  deleteVersionAfter: z.number(),
});
export type StoredConfig = z.infer<typeof storedConfig>;

const storedData = z.object({ data: z.record(z.string(), z.unknown()) });

export const DEFAULT_CONFIG: StoredConfig = Object.freeze({ maxVersions: 0, casRequired: false, deleteVersionAfter: 0 });

export function metaKey(path: string): string {
  return METADATA_PREFIX + path;
}

/**
 * sha256(path) in hex, remembered for recently used paths: every read and write of a path names its
 * version record, and a fresh hash object per call was ~2% of a KV read's CPU. Bounded: the map is
 * dropped when full (the hash is recomputed, never wrong).
 */
const pathHashes = new Map<string, string>();
const PATH_HASHES_MAX = 4096;

function pathHash(path: string): string {
  let h = pathHashes.get(path);
  if (h === undefined) {
    h = createHash('sha256').update(path).digest('hex');
    if (pathHashes.size >= PATH_HASHES_MAX) pathHashes.clear();
    pathHashes.set(path, h);
  }
  return h;
}

export function versionKey(path: string, version: number, ref: string): string {
  return `${VERSIONS_PREFIX}${pathHash(path)}/${version}-${ref}`;
}

export function newRef(): string {
  return randomBytes(8).toString('hex');
}

export function emptyMeta(now: number): StoredMeta {
  return {
    created: now,
    updated: now,
    current: 0,
    oldest: 0,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfter: 0,
    custom: null,
    versions: {},
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encode(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

/*
 * Decoding runs on every read (metadata + version record), so well-formed records — the only kind
 * Arca writes, and the barrier authenticates them — take a hand-written check; anything else goes
 * through the zod schema, whose failure is an ERR_INTERNAL. (zod here cost ~7% of a KV read's CPU.)
 */

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isStoredVersion(v: unknown): v is StoredVersion {
  return isObj(v) && isNum(v['created']) && isNum(v['deleted']) && typeof v['destroyed'] === 'boolean' && typeof v['ref'] === 'string';
}

function isStoredMeta(v: unknown): v is StoredMeta {
  if (!isObj(v)) return false;
  if (!isNum(v['created']) || !isNum(v['updated']) || !isInt(v['current']) || !isInt(v['oldest'])) return false;
  if (!isNum(v['maxVersions']) || typeof v['casRequired'] !== 'boolean' || !isNum(v['deleteVersionAfter'])) return false;
  const custom = v['custom'];
  if (custom !== null && !(isObj(custom) && Object.values(custom).every((x) => typeof x === 'string'))) return false;
  const versions = v['versions'];
  return isObj(versions) && Object.values(versions).every(isStoredVersion);
}

/**
 * Records written before the API range-checked its fields may hold, say, a delete_version_after of
 * 1e20 s. Refusing to load them would make the path (or the whole mount, for the config) answer 500
 * for good; clamping to the API's range keeps them working with the nearest value it would accept.
 */
function clampSettings<T extends { maxVersions: number; deleteVersionAfter: number }>(r: T): T {
  const mv = r.maxVersions;
  const dva = r.deleteVersionAfter;
  const maxD = MAX_DURATION.s;
  if (Number.isInteger(mv) && mv >= 0 && mv <= MAX_KV_VERSIONS && Number.isInteger(dva) && dva >= -maxD && dva <= maxD) return r;
  return { ...r, maxVersions: clamp(mv, 0, MAX_KV_VERSIONS), deleteVersionAfter: clamp(dva, -maxD, maxD) };
}

function clamp(n: number, min: number, max: number): number {
  return Math.trunc(Math.min(max, Math.max(min, Number.isNaN(n) ? 0 : n)));
}

/** A record that is not one Arca writes: a 500 whose cause (never the record) goes to the log. */
function corrupt(what: string, cause: unknown): ArcaError {
  return new ArcaError('ERR_INTERNAL', 'internal error', { expose: false, cause, details: { record: what } });
}

function parseJson(raw: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(raw));
  } catch (err) {
    throw corrupt(what, err);
  }
}

export function decodeMeta(raw: Uint8Array): StoredMeta {
  const v = parseJson(raw, 'kv metadata');
  if (isStoredMeta(v)) return clampSettings(v);
  const r = storedMeta.safeParse(v);
  if (!r.success) throw corrupt('kv metadata', r.error);
  return clampSettings(r.data);
}

export function decodeConfig(raw: Uint8Array): StoredConfig {
  const r = storedConfig.safeParse(parseJson(raw, 'kv config'));
  if (!r.success) throw corrupt('kv config', r.error);
  return clampSettings(r.data);
}

export function decodeData(raw: Uint8Array): Record<string, unknown> {
  const v = parseJson(raw, 'kv version');
  if (isObj(v) && isObj(v['data'])) return v['data'];
  const r = storedData.safeParse(v);
  if (!r.success) throw corrupt('kv version', r.error);
  return r.data.data;
}
