import { ArcaError } from '../../errors/index.ts';
import { formatDuration } from '../../units/index.ts';
import { DEFAULT_MAX_VERSIONS, emptyMeta, newRef, type StoredConfig, type StoredMeta, type StoredVersion } from './records.ts';
import type { Mutation } from './store.ts';
import { formatTime } from './time.ts';

/** Vault: the larger of the key's and the engine's max_versions, 10 when both are 0. */
export function effectiveMaxVersions(c: StoredConfig, m: StoredMeta): number {
  const n = Math.max(c.maxVersions, m.maxVersions);
  return n > 0 ? n : DEFAULT_MAX_VERSIONS;
}

/**
 * Vault: the smaller non-zero of the engine's and the key's delete_version_after, in seconds;
 * a negative engine value disables the feature for every key, a negative key value for that key.
 */
export function effectiveDeleteAfter(c: StoredConfig, m: StoredMeta): number {
  if (c.deleteVersionAfter < 0 || m.deleteVersionAfter < 0) return 0;
  if (c.deleteVersionAfter === 0) return m.deleteVersionAfter;
  if (m.deleteVersionAfter === 0) return c.deleteVersionAfter;
  return Math.min(c.deleteVersionAfter, m.deleteVersionAfter);
}

/** A deletion time in the past hides the data; one in the future (delete_version_after) does not yet. */
export function isDeleted(v: StoredVersion, now: number): boolean {
  return v.deleted !== 0 && v.deleted <= now;
}

export function isLive(v: StoredVersion, now: number): boolean {
  return !v.destroyed && !isDeleted(v, now);
}

/** The per-version `metadata` object of data reads and writes, in Vault's key order. */
export function versionMetadataOut(m: StoredMeta, version: number, v: StoredVersion): Record<string, unknown> {
  return {
    created_time: formatTime(v.created),
    custom_metadata: m.custom,
    deletion_time: formatTime(v.deleted),
    destroyed: v.destroyed,
    version,
  };
}

/** The `metadata/:path` read body. */
export function metadataOut(m: StoredMeta): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const n of Object.keys(m.versions).map(Number).sort((a, b) => a - b)) {
    const v = m.versions[String(n)]!;
    versions[String(n)] = { created_time: formatTime(v.created), deletion_time: formatTime(v.deleted), destroyed: v.destroyed };
  }
  return {
    cas_required: m.casRequired,
    created_time: formatTime(m.created),
    current_version: m.current,
    custom_metadata: m.custom,
    delete_version_after: formatDuration(m.deleteVersionAfter),
    max_versions: m.maxVersions,
    oldest_version: m.oldest,
    updated_time: formatTime(m.updated),
    versions,
  };
}

/** Enforces cas_required and options.cas against the metadata as it is right now. */
export function checkCas(c: StoredConfig, cur: StoredMeta | undefined, cas: number | undefined): void {
  if (cas === undefined) {
    if (c.casRequired || cur?.casRequired) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'check-and-set parameter required for this call');
    }
    return;
  }
  if (cas !== (cur?.current ?? 0)) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'check-and-set parameter did not match the current version');
  }
}

/**
 * Adds version current+1 holding `data` (vault-kv AddVersion): the new version gets the effective
 * delete_version_after as a future deletion time, and versions beyond the effective max are dropped
 * from the map (their records are deleted once the metadata has landed).
 */
export function addVersion(
  c: StoredConfig,
  cur: StoredMeta | undefined,
  now: number,
  data: Record<string, unknown>,
): Mutation<Record<string, unknown>> {
  const base = cur ?? emptyMeta(now);
  const version = base.current + 1;
  const dva = effectiveDeleteAfter(c, base);
  const ref = newRef();
  const nv: StoredVersion = { created: now, deleted: dva > 0 ? now + dva * 1000 : 0, destroyed: false, ref };
  const versions: Record<string, StoredVersion> = { ...base.versions, [String(version)]: nv };
  const drop: { version: number; ref: string }[] = [];
  let oldest = base.oldest;
  const cutoff = version - effectiveMaxVersions(c, base);
  if (cutoff >= 1) {
    for (const k of Object.keys(versions)) {
      const n = Number(k);
      if (n <= cutoff) {
        drop.push({ version: n, ref: versions[k]!.ref });
        delete versions[k];
      }
    }
    oldest = cutoff + 1;
  }
  const meta: StoredMeta = { ...base, current: version, oldest, updated: now, versions };
  return { meta, write: { version, ref, data }, drop, result: versionMetadataOut(meta, version, nv) };
}
