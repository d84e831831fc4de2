import type { z } from 'zod';
import { formatDuration } from '../../units/index.ts';
import { ignoredFieldsResponse, ignoredFieldsWarning, parseField, vBool } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import type { KvDeps } from './data.ts';
import { emptyMeta, METADATA_PREFIX, type StoredConfig, type StoredMeta } from './records.ts';
import { DELETE_VERSION_AFTER, invalid, isPlainObject, MAX_VERSIONS, mergePatch, notFound } from './request.ts';
import { metadataOut } from './versioning.ts';

const CAS_IGNORED_WARNING = '"cas_required" set to false, but is mandated by backend config. This value will be ignored.';

/** GET metadata/:path. */
export async function readMetadata(d: KvDeps, path: string): Promise<EngineResponse> {
  const meta = await d.store.meta(path);
  if (!meta) throw notFound();
  return { data: metadataOut(meta) };
}

interface MetaFields {
  maxVersions?: number;
  casRequired?: boolean;
  deleteVersionAfter?: number;
  custom?: Record<string, string>;
}

/** A field of `body` parsed with `schema`; absent or null = undefined. */
function field<S extends z.ZodType>(body: Record<string, unknown>, name: string, schema: S): z.output<S> | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  return parseField(schema, name, v);
}

function boolField(body: Record<string, unknown>, name: string): boolean | undefined {
  return field(body, name, vBool);
}

const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]*$/u;
const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY_BYTES = 128;
const MAX_CUSTOM_VALUE_BYTES = 512;

/** custom_metadata: values coerced to strings; limits as Vault's (64 keys, 128/512-byte keys/values, printable). */
export function customMetadataField(v: unknown, allowNull: boolean): Record<string, string | null> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw invalid('Field validation failed: error converting input for field "custom_metadata": expected a map', 'custom_metadata');
  const out: Record<string, string | null> = {};
  const problems: string[] = [];
  const entries = Object.entries(v);
  if (entries.length > MAX_CUSTOM_KEYS) problems.push(`payload must contain at most ${MAX_CUSTOM_KEYS} keys, provided ${entries.length}`);
  // Problems name the key by its position, never by its text: keys and values may be secrets.
  for (const [i, [k, raw]] of entries.entries()) {
    const which = `key #${i + 1}`;
    if (raw === null && allowNull) {
      out[k] = null;
      continue;
    }
    const s = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    const kb = Buffer.byteLength(k);
    if (kb === 0 || kb > MAX_CUSTOM_KEY_BYTES) problems.push(`length of ${which} is ${kb} but must be 0 < len(key) <= ${MAX_CUSTOM_KEY_BYTES}`);
    else if (!PRINTABLE.test(k)) problems.push(`${which} contains unprintable characters`);
    if (s === undefined) {
      problems.push(`value for ${which} must be a string`);
      continue;
    }
    const vb = Buffer.byteLength(s);
    if (vb === 0 || vb > MAX_CUSTOM_VALUE_BYTES) problems.push(`length of value for ${which} is ${vb} but must be 0 < len(value) <= ${MAX_CUSTOM_VALUE_BYTES}`);
    else if (!PRINTABLE.test(s)) problems.push(`value for ${which} contains unprintable characters`);
    Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
  }
  if (problems.length > 0) throw invalid(`custom_metadata validation failed: ${problems.join('; ')}`, 'custom_metadata');
  return out;
}

function metaFields(body: Record<string, unknown>, patch: boolean): MetaFields & { customPatch?: Record<string, string | null> } {
  const f: MetaFields & { customPatch?: Record<string, string | null> } = {};
  const mv = field(body, 'max_versions', MAX_VERSIONS);
  if (mv !== undefined) f.maxVersions = mv;
  const cr = boolField(body, 'cas_required');
  if (cr !== undefined) f.casRequired = cr;
  const dva = field(body, 'delete_version_after', DELETE_VERSION_AFTER);
  if (dva !== undefined) f.deleteVersionAfter = dva;
  const cm = customMetadataField(body['custom_metadata'], patch);
  if (cm !== undefined) {
    if (patch) f.customPatch = cm;
    else f.custom = cm as Record<string, string>;
  }
  return f;
}

function apply(m: StoredMeta, f: ReturnType<typeof metaFields>, now: number): StoredMeta {
  const out: StoredMeta = { ...m, updated: now };
  if (f.maxVersions !== undefined) out.maxVersions = f.maxVersions;
  if (f.casRequired !== undefined) out.casRequired = f.casRequired;
  if (f.deleteVersionAfter !== undefined) out.deleteVersionAfter = f.deleteVersionAfter;
  if (f.custom !== undefined) out.custom = f.custom;
  if (f.customPatch !== undefined) {
    const merged = mergePatch(m.custom ?? {}, f.customPatch) as Record<string, string>;
    out.custom = Object.keys(merged).length > 0 ? merged : null;
  }
  return out;
}

/** The fields metadata and config writes take (what metaFields and writeConfig read). */
const META_FIELDS = ['max_versions', 'cas_required', 'delete_version_after', 'custom_metadata'] as const;
const CONFIG_FIELDS = ['max_versions', 'cas_required', 'delete_version_after'] as const;

/** POST metadata/:path (replaces custom_metadata) or PATCH (merges it; the key must exist). */
export async function writeMetadata(d: KvDeps, req: EngineRequest, path: string, patch: boolean): Promise<EngineResponse | undefined> {
  const f = metaFields(req.data, patch);
  const warnings = ignoredFieldsWarning(META_FIELDS, req.data);
  if (Object.keys(f).length === 0) {
    if (patch && !(await d.store.hasMeta(path))) throw notFound();
    return warnings.length ? { warnings } : undefined;
  }
  const config = await d.store.config();
  await d.store.mutate(path, (cur) => {
    if (patch && !cur) throw notFound();
    const now = d.now();
    return { meta: apply(cur ?? emptyMeta(now), f, now), result: undefined };
  });
  if (f.casRequired === false && config.casRequired) warnings.push(CAS_IGNORED_WARNING);
  return warnings.length ? { warnings } : undefined;
}

/** DELETE metadata/:path: the key, every version and its metadata. */
export async function deleteMetadata(d: KvDeps, path: string): Promise<undefined> {
  await d.store.deleteAll(path);
  return undefined;
}

/** LIST metadata/[dir/]: immediate children, folders with a trailing '/'; nothing → 404. */
export async function listMetadata(d: KvDeps, dir: string): Promise<EngineResponse> {
  const prefix = dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
  const keys = await d.store.list(METADATA_PREFIX + prefix);
  if (keys.length === 0) throw notFound();
  return { data: { keys } };
}

export function configOut(c: StoredConfig): Record<string, unknown> {
  return { cas_required: c.casRequired, delete_version_after: formatDuration(c.deleteVersionAfter), max_versions: c.maxVersions };
}

/** POST config: only the given fields change. */
export async function writeConfig(d: KvDeps, req: EngineRequest): Promise<EngineResponse | undefined> {
  const cur = await d.store.config();
  const next: StoredConfig = { ...cur };
  const mv = field(req.data, 'max_versions', MAX_VERSIONS);
  if (mv !== undefined) next.maxVersions = mv;
  const cr = boolField(req.data, 'cas_required');
  if (cr !== undefined) next.casRequired = cr;
  const dva = field(req.data, 'delete_version_after', DELETE_VERSION_AFTER);
  if (dva !== undefined) next.deleteVersionAfter = dva;
  await d.store.putConfig(next);
  return ignoredFieldsResponse(CONFIG_FIELDS, req.data);
}
