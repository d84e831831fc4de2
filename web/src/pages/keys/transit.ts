// Transit calls of the Keys page and the KMS plugins' posture reports, through the one API client.
import { ApiError, api, type Envelope } from '../../api/client.ts';
import type { WrapInfo } from '../../api/requests.ts';

export interface TransitKey {
  name: string;
  type: string;
  /** version → creation time (unix seconds) */
  keys: Record<string, number>;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  auto_rotate_period: number;
  /** version → key_id (Arca): the id a KMS plugin backed by this key reports for that version. */
  version_ids?: Record<string, string>;
}

const opt = (signal?: AbortSignal) => (signal ? { signal } : {});

export function listKeys(mount: string, signal?: AbortSignal): Promise<string[]> {
  return api.list(`${mount}keys`, opt(signal));
}

export async function readKey(mount: string, name: string, signal?: AbortSignal): Promise<TransitKey> {
  const r = await api.read<TransitKey>(`${mount}keys/${name}`, opt(signal));
  if (!r.data) throw new Error('The server answered without a key description.');
  return r.data;
}

/** Rotates; answers the control group's `wrap_info` when the server held the request for approval. */
export async function rotateKey(mount: string, name: string): Promise<WrapInfo | undefined> {
  const r: Envelope = await api.write(`${mount}keys/${name}/rotate`, {});
  return r.wrap_info ? (r.wrap_info as unknown as WrapInfo) : undefined;
}

export async function setMinDecryption(mount: string, name: string, version: number): Promise<WrapInfo | undefined> {
  const r: Envelope = await api.write(`${mount}keys/${name}/config`, { min_decryption_version: version });
  return r.wrap_info ? (r.wrap_info as unknown as WrapInfo) : undefined;
}

/** What `arca kms-plugin --report-interval` writes to <posture>/data/<cluster>/kms-plugin.<node>. */
export interface PluginReport {
  cluster: string;
  node: string;
  source: string;
  version: string;
  healthz: string;
  keyId: string;
  at: string;
}

/** The default posture mount (docs/operations.md §3). */
export const POSTURE_MOUNT = 'posture/';
const PLUGIN_PREFIX = 'kms-plugin.';

/**
 * Every KMS plugin report: one search of the posture mount for `kms-plugin.` paths, then one read per
 * report (one per plugin node, so few). `null` when there is no posture mount yet (nothing reported);
 * 'forbidden' when the token may not search it (an operator without the posture reader policy).
 */
export async function pluginReports(signal?: AbortSignal, mount = POSTURE_MOUNT): Promise<PluginReport[] | null | 'forbidden'> {
  let paths: string[];
  try {
    paths = (await api.read<{ keys?: string[] }>(`${mount}search`, { query: { q: PLUGIN_PREFIX }, ...opt(signal) })).data?.keys ?? [];
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    if (err instanceof ApiError && err.status === 403) return 'forbidden';
    throw err;
  }
  const mine = paths.filter((p) => (p.split('/').pop() ?? '').startsWith(PLUGIN_PREFIX) && p.includes('/'));
  const reports = await Promise.all(
    mine.map(async (p) => {
      const d = (await api.read<{ data?: Record<string, unknown> }>(`${mount}data/${p}`, opt(signal))).data?.data ?? {};
      const s = (k: string): string => (typeof d[k] === 'string' ? (d[k] as string) : '');
      const cluster = p.slice(0, p.lastIndexOf('/'));
      const node = s('node') || (p.split('/').pop() ?? '').slice(PLUGIN_PREFIX.length);
      return { cluster, node, source: s('source'), version: s('version'), healthz: s('healthz'), keyId: s('keyId'), at: s('at') };
    }),
  );
  return reports.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node));
}

/** key_id → the transit key version it names (remote-source key_ids are `version_ids[N]`). */
export interface KeyVersionRef {
  mount: string;
  name: string;
  version: number;
  latest: number;
}

export function indexKeyIds(keys: { mount: string; key: TransitKey }[]): Map<string, KeyVersionRef> {
  const m = new Map<string, KeyVersionRef>();
  for (const { mount, key } of keys) {
    for (const [v, id] of Object.entries(key.version_ids ?? {})) m.set(id, { mount, name: key.name, version: Number(v), latest: key.latest_version });
  }
  return m;
}
