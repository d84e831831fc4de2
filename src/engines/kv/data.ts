import { withIgnoredFields } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import type { StoredMeta } from './records.ts';
import { casOption, dataField, isPlainObject, mergePatch, notFound, versionParam } from './request.ts';
import type { KvStore } from './store.ts';
import { addVersion, checkCas, isLive, versionMetadataOut } from './versioning.ts';

export interface KvDeps {
  store: KvStore;
  now: () => number;
}

/** GET data/:path[?version=N]. A deleted or destroyed version is a 404 that still carries the envelope. */
export async function readData(d: KvDeps, req: EngineRequest, path: string): Promise<EngineResponse> {
  const wanted = versionParam(req.data);
  const meta = await d.store.meta(path);
  if (!meta) throw notFound();
  const version = wanted === 0 ? meta.current : wanted;
  const v = meta.versions[String(version)];
  if (!v) throw notFound();
  const metadata = versionMetadataOut(meta, version, v);
  if (!isLive(v, d.now())) return { status: 404, data: { data: null, metadata } };
  const data = await d.store.data(path, version, v.ref);
  // The record can vanish between the two reads only if the version was destroyed or trimmed meanwhile.
  if (data === undefined) throw notFound();
  return { data: { data, metadata } };
}

/** The body fields Vault's KV v2 `data/:path` takes (`version` is a read parameter, never an error). */
const DATA_FIELDS = ['data', 'options', 'version'] as const;

/** POST|PUT data/:path: a new version, honouring options.cas and cas_required. */
export async function writeData(d: KvDeps, req: EngineRequest, path: string): Promise<EngineResponse> {
  const data = dataField(req.data);
  const cas = casOption(req.data);
  const config = await d.store.config();
  const out = await d.store.mutate(path, (cur) => {
    checkCas(config, cur, cas);
    return addVersion(config, cur, d.now(), data);
  });
  // Vault's warning for fields beside data and options (say, a secret left outside `data`).
  return withIgnoredFields<EngineResponse>({ data: out }, DATA_FIELDS, req.data);
}

/** PATCH data/:path: JSON merge patch of the current live version, stored as a new version. */
export async function patchData(d: KvDeps, req: EngineRequest, path: string): Promise<EngineResponse> {
  const patch = dataField(req.data);
  const cas = casOption(req.data);
  const config = await d.store.config();
  const res = await d.store.mutate<EngineResponse>(path, async (cur: StoredMeta | undefined) => {
    // Vault answers a patch of a missing key with a bare 404 (empty body).
    if (!cur || cur.current === 0) return { result: { status: 404 } };
    const v = cur.versions[String(cur.current)];
    if (!v) return { result: { status: 404 } };
    if (!isLive(v, d.now())) return { result: { status: 404, data: versionMetadataOut(cur, cur.current, v) } };
    checkCas(config, cur, cas);
    const base = await d.store.data(path, cur.current, v.ref);
    if (base === undefined) return { result: { status: 404 } };
    const merged = mergePatch(base, patch);
    const next = addVersion(config, cur, d.now(), isPlainObject(merged) ? merged : {});
    return { ...next, result: { data: next.result } };
  });
  return withIgnoredFields(res, DATA_FIELDS, req.data);
}

/** DELETE data/:path: soft-deletes the current version; a no-op when there is nothing live. */
export async function deleteLatest(d: KvDeps, path: string): Promise<undefined> {
  await d.store.mutate(path, (cur) => {
    const now = d.now();
    const v = cur?.versions[String(cur.current)];
    if (!cur || !v || !isLive(v, now)) return { result: undefined };
    return { meta: { ...cur, versions: { ...cur.versions, [String(cur.current)]: { ...v, deleted: now } } }, result: undefined };
  });
  return undefined;
}
