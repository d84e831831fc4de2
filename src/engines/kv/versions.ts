import type { EngineRequest } from '../types.ts';
import type { KvDeps } from './data.ts';
import type { StoredVersion } from './records.ts';
import { versionsField } from './request.ts';
import { effectiveDeleteAfter, isDeleted } from './versioning.ts';

/** POST delete/:path {versions}: soft-deletes each listed version that is known, live, not destroyed. */
export async function deleteVersions(d: KvDeps, req: EngineRequest, path: string): Promise<undefined> {
  const wanted = versionsField(req.data, 'No version number provided');
  await d.store.mutate(path, (cur) => {
    if (!cur) return { result: undefined };
    const now = d.now();
    const versions = { ...cur.versions };
    let changed = false;
    for (const n of wanted) {
      const v = versions[String(n)];
      if (!v || v.destroyed || isDeleted(v, now)) continue;
      versions[String(n)] = { ...v, deleted: now };
      changed = true;
    }
    return changed ? { meta: { ...cur, versions }, result: undefined } : { result: undefined };
  });
  return undefined;
}

/**
 * POST undelete/:path {versions}: clears the deletion time; a configured delete_version_after is
 * re-applied if it still lies in the future. Destroyed versions stay destroyed.
 */
export async function undeleteVersions(d: KvDeps, req: EngineRequest, path: string): Promise<undefined> {
  const wanted = versionsField(req.data, 'No version number provided');
  const config = await d.store.config();
  await d.store.mutate(path, (cur) => {
    if (!cur) return { result: undefined };
    const now = d.now();
    const dva = effectiveDeleteAfter(config, cur);
    const versions = { ...cur.versions };
    let changed = false;
    for (const n of wanted) {
      const v = versions[String(n)];
      if (!v || v.destroyed || v.deleted === 0) continue;
      const again = dva > 0 ? v.created + dva * 1000 : 0;
      versions[String(n)] = { ...v, deleted: again > now ? again : 0 };
      changed = true;
    }
    return changed ? { meta: { ...cur, versions }, result: undefined } : { result: undefined };
  });
  return undefined;
}

/** POST destroy/:path {versions}: marks versions destroyed and deletes their data records for good. */
export async function destroyVersions(d: KvDeps, req: EngineRequest, path: string): Promise<undefined> {
  const wanted = versionsField(req.data, 'no version number provided');
  await d.store.mutate(path, (cur) => {
    if (!cur) return { result: undefined };
    const versions: Record<string, StoredVersion> = { ...cur.versions };
    const drop: { version: number; ref: string }[] = [];
    for (const n of wanted) {
      const v = versions[String(n)];
      if (!v || v.destroyed) continue;
      versions[String(n)] = { ...v, destroyed: true, ref: '' };
      drop.push({ version: n, ref: v.ref });
    }
    return drop.length > 0 ? { meta: { ...cur, versions }, drop, result: undefined } : { result: undefined };
  });
  return undefined;
}
