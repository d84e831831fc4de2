// KV version 2 calls of the Secrets page, through the one API client. Values are only ever returned
// to the caller that asked (Reveal); nothing here caches or stores them.
import { ApiError, api, call, encodePath } from '../../api/client.ts';

/** The UI route of a mount, folder or secret path, each segment URL-encoded (names may hold ?, #, %). */
export function secretsTo(path: string, query = ''): string {
  return `secrets/${encodePath(path)}${query}`;
}

export interface Mount {
  /** "secret/" (always ends with a slash). */
  path: string;
  type: string;
  description: string;
  options: Record<string, string> | null;
}

/** Every mount from sys/mounts (Vault's shape: `data` keyed by mount path). */
export async function mounts(signal?: AbortSignal): Promise<Mount[]> {
  const r = await api.read<Record<string, Omit<Mount, 'path'>>>('sys/mounts', signal ? { signal } : {});
  return Object.entries(r.data ?? {})
    .map(([path, m]) => ({ path, type: m.type, description: m.description ?? '', options: m.options ?? null }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** The mounts `arca server` creates (src/server/engines.ts), for a token that may not read sys/mounts. */
const DEFAULT_MOUNTS: Mount[] = [
  { path: 'secret/', type: 'kv', description: '', options: { version: '2' } },
  { path: 'transit/', type: 'transit', description: '', options: null },
];

/**
 * sys/mounts, or — when the token may not read it (an operator policy often grants only the
 * secret paths) — the server's default mounts, flagged so the page says it is guessing.
 */
export async function mountsOrDefaults(signal?: AbortSignal): Promise<{ list: Mount[]; guessed: boolean }> {
  try {
    return { list: await mounts(signal), guessed: false };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return { list: DEFAULT_MOUNTS, guessed: true };
    throw err;
  }
}

export const isKv2 = (m: Mount): boolean => m.type === 'kv' && (m.options?.['version'] ?? '2') === '2';

/** The KV v2 mount a UI path ("secret/app/db") starts with, longest first (mounts may nest: "team/kv/"). */
export function splitMount(all: Mount[], path: string): { mount: Mount; rest: string } | undefined {
  const full = path.endsWith('/') ? path : `${path}/`;
  const m = all.filter((x) => isKv2(x) && full.startsWith(x.path)).sort((a, b) => b.path.length - a.path.length)[0];
  return m ? { mount: m, rest: path.slice(m.path.length) } : undefined;
}

/** A LIST started before the mount list arrived (see prefetchFolder); taken once, if fresh. */
let early: { key: string; at: number; list: Promise<string[]> } | undefined;
const EARLY_MAX_AGE_MS = 5000;

/**
 * Opening /ui/secrets/<mount>/<folder>/ needs sys/mounts (to know where the mount ends) and then
 * the LIST: two round trips in a row. Guessing the usual one-segment mount lets both run at once;
 * a wrong guess (nested mount) only costs an unused request.
 */
export function prefetchFolder(uiPath: string): void {
  const i = uiPath.indexOf('/');
  if (i < 1 || !uiPath.endsWith('/')) return;
  const key = uiPath;
  const list = api.list(`${uiPath.slice(0, i + 1)}metadata/${uiPath.slice(i + 1)}`);
  list.catch(() => undefined); // an unused guess must not be an unhandled rejection
  early = { key, at: Date.now(), list };
}

/** LIST <mount>metadata/<folder>: child names, folders end with "/". A missing folder is empty. */
export function listFolder(mount: string, folder: string, signal?: AbortSignal): Promise<string[]> {
  const e = early;
  early = undefined;
  if (e && e.key === mount + folder && Date.now() - e.at < EARLY_MAX_AGE_MS) return e.list;
  return api.list(`${mount}metadata/${folder}`, signal ? { signal } : {});
}

export interface SearchQuery {
  prefix: string;
  q: string;
  metaKey: string;
  metaValue: string;
}

/** GET <mount>search (src/engines/kv/search.ts): paths only, never values. */
export async function search(mount: string, s: SearchQuery, signal?: AbortSignal): Promise<string[]> {
  const query: Record<string, string> = {};
  if (s.prefix) query['prefix'] = s.prefix;
  if (s.q) query['q'] = s.q;
  if (s.metaKey) query[`metadata.${s.metaKey}`] = s.metaValue;
  const r = await call<{ keys?: string[] }>('GET', `${mount}search`, undefined, { query, ...(signal ? { signal } : {}) });
  return r.data?.keys ?? [];
}

export interface VersionMeta {
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

export interface SecretMeta {
  cas_required: boolean;
  created_time: string;
  updated_time: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  delete_version_after: string;
  custom_metadata: Record<string, string> | null;
  versions: Record<string, VersionMeta>;
}

export async function readMeta(mount: string, path: string, signal?: AbortSignal): Promise<SecretMeta> {
  const r = await api.read<SecretMeta>(`${mount}metadata/${path}`, signal ? { signal } : {});
  if (!r.data) throw new Error('The server answered without metadata for this secret.');
  return r.data;
}

/** The values of one version (Reveal). */
export async function readValues(mount: string, path: string, version: number): Promise<Record<string, unknown>> {
  const r = await api.read<{ data: Record<string, unknown> | null }>(`${mount}data/${path}`, { query: { version } });
  return r.data?.data ?? {};
}

/** Writes a new version; `cas` is the version the editor started from (0 = must not exist yet). */
export async function writeValues(mount: string, path: string, data: Record<string, string>, cas: number): Promise<number> {
  try {
    const r = await api.write<{ version: number }>(`${mount}data/${path}`, { options: { cas }, data });
    return r.data?.version ?? 0;
  } catch (err) {
    // The server's words name the parameter; say what happened and what to do instead.
    if (err instanceof ApiError && /check-and-set parameter did not match/.test(err.message)) {
      throw new Error(
        cas === 0
          ? 'A secret already exists at this path: open it and write a new version instead.'
          : `Someone wrote a newer version than v${cas} meanwhile: nothing was saved. Reload the page to see it, then write again.`,
      );
    }
    throw err;
  }
}

export type VersionAction = 'delete' | 'undelete' | 'destroy';

export async function versionAction(mount: string, path: string, action: VersionAction, version: number): Promise<void> {
  await api.write(`${mount}${action}/${path}`, { versions: [version] });
}

/** DELETE <mount>metadata/<path>: every version and the metadata, for good. */
export async function deleteAll(mount: string, path: string): Promise<void> {
  await api.del(`${mount}metadata/${path}`);
}

export type VersionState = 'current' | 'deleted' | 'destroyed' | 'active';

/** A deletion_time in the future is a deletion scheduled by delete_version_after, not one that happened. */
export function deletedNow(v: VersionMeta | undefined, now = Date.now()): boolean {
  return !!v?.deletion_time && Date.parse(v.deletion_time) <= now;
}

export function versionState(meta: SecretMeta, n: number): VersionState {
  const v = meta.versions[String(n)];
  if (v?.destroyed) return 'destroyed';
  if (deletedNow(v)) return 'deleted';
  return n === meta.current_version ? 'current' : 'active';
}
