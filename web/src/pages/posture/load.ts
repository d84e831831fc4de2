// Reads the posture reports of one cluster from the KV v2 mount they are stored in
// (docs/operations.md §3): `<mount>/data/<cluster>/<source>` is the latest report, the metadata
// lists its versions (the history), `?version=N` reads an older one.
import { ApiError, api } from '../../api/client.ts';
import {
  type CheckReport,
  type Counts,
  type KeyVersions,
  type PluginReport,
  parseCheck,
  parseKeyRead,
  parsePlugin,
  parseScan,
  type ScanReport,
  transitKeyOf,
} from './derive.ts';

export const DEFAULT_MOUNT = 'posture';
/** How many scan versions the history reads (KV v2 keeps 10 by default). */
export const HISTORY_POINTS = 10;

/** One report read: absent (404), present, or refused/failed (shown in its own section). */
export type Got<T> = { state: 'absent' } | { state: 'ok'; value: T; version: number; createdTime: string } | { state: 'error'; error: unknown };

interface KvData {
  data?: unknown;
  metadata?: { version?: number; created_time?: string };
}
interface KvMetadata {
  versions?: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
  current_version?: number;
}

const trim = (m: string) => m.replace(/^\/+|\/+$/g, '');

export async function listClusters(mount: string, signal: AbortSignal): Promise<string[]> {
  const keys = await api.list(`${trim(mount)}/metadata/`, { signal });
  return keys.filter((k) => k.endsWith('/')).map((k) => k.slice(0, -1));
}

async function readReport<T>(mount: string, cluster: string, source: string, parse: (v: unknown) => T | undefined, signal: AbortSignal, version?: number): Promise<Got<T>> {
  try {
    const env = await api.read<KvData>(`${trim(mount)}/data/${cluster}/${source}`, { signal, ...(version ? { query: { version } } : {}) });
    const value = parse(env.data?.data);
    if (value === undefined) return { state: 'error', error: new Error(`The report at ${source} is not in the shape arca writes; it was ignored.`) };
    return { state: 'ok', value, version: env.data?.metadata?.version ?? 0, createdTime: env.data?.metadata?.created_time ?? '' };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { state: 'absent' };
    if ((error as Error).name === 'AbortError') throw error;
    return { state: 'error', error };
  }
}

/** Live (not deleted, not destroyed) versions of one report, oldest first, with their times. */
async function liveVersions(mount: string, cluster: string, source: string, signal: AbortSignal): Promise<{ version: number; createdTime: string }[]> {
  const env = await api.read<KvMetadata>(`${trim(mount)}/metadata/${cluster}/${source}`, { signal });
  return Object.entries(env.data?.versions ?? {})
    .filter(([, v]) => !v.destroyed && !v.deletion_time)
    .map(([n, v]) => ({ version: Number(n), createdTime: v.created_time ?? '' }))
    .filter((v) => Number.isInteger(v.version) && v.version > 0)
    .sort((a, b) => a.version - b.version);
}

export interface PluginEntry {
  source: string;
  report: Got<PluginReport>;
  /** creation times of the report's versions: the plugin's interval is estimated from them */
  versionTimes: string[];
}

export interface ClusterReports {
  sources: string[];
  scan: Got<ScanReport>;
  check: Got<CheckReport>;
  plugins: PluginEntry[];
}

export async function loadCluster(mount: string, cluster: string, signal: AbortSignal): Promise<ClusterReports> {
  const sources = await api.list(`${trim(mount)}/metadata/${cluster}/`, { signal });
  const pluginSources = sources.filter((s) => s.startsWith('kms-plugin.')).sort();
  const [scan, check, plugins] = await Promise.all([
    sources.includes('etcd-scan') ? readReport(mount, cluster, 'etcd-scan', parseScan, signal) : Promise.resolve<Got<ScanReport>>({ state: 'absent' }),
    sources.includes('check') ? readReport(mount, cluster, 'check', parseCheck, signal) : Promise.resolve<Got<CheckReport>>({ state: 'absent' }),
    Promise.all(
      pluginSources.map(async (source): Promise<PluginEntry> => {
        const [report, times] = await Promise.all([
          readReport(mount, cluster, source, parsePlugin, signal),
          // The interval estimate is a nicety: without metadata access the default interval is used.
          liveVersions(mount, cluster, source, signal).then(
            (vs) => vs.slice(-HISTORY_POINTS).map((v) => v.createdTime),
            () => [] as string[],
          ),
        ]);
        return { source, report, versionTimes: times };
      }),
    ),
  ]);
  return { sources, scan, check, plugins };
}

export interface HistoryPoint {
  version: number;
  at: string;
  total: number;
  byState: Counts;
}

/** The last HISTORY_POINTS scans, oldest first (one read per version: KV has no batch read). */
export async function loadScanHistory(mount: string, cluster: string, signal: AbortSignal): Promise<HistoryPoint[]> {
  const versions = (await liveVersions(mount, cluster, 'etcd-scan', signal)).slice(-HISTORY_POINTS);
  const points = await Promise.all(
    versions.map(async (v) => {
      const got = await readReport(mount, cluster, 'etcd-scan', parseScan, signal, v.version);
      if (got.state === 'error') throw got.error;
      return got.state === 'ok' ? { version: v.version, at: got.value.at || v.createdTime, total: got.value.total, byState: got.value.byState } : undefined;
    }),
  );
  return points.filter((p): p is HistoryPoint => p !== undefined);
}

export interface KeyRotation {
  mount: string;
  key: string;
  versions: Got<KeyVersions>;
}

/** The transit keys the cluster's plugins report using, read for their versions' creation times. */
export async function loadRotation(plugins: PluginReport[], signal: AbortSignal): Promise<KeyRotation[]> {
  const keys = new Map<string, { mount: string; key: string }>();
  for (const p of plugins) {
    const k = transitKeyOf(p.source);
    if (k) keys.set(`${k.mount}/${k.key}`, k);
  }
  return Promise.all(
    [...keys.values()].map(async ({ mount, key }): Promise<KeyRotation> => {
      try {
        const env = await api.read(`${trim(mount)}/keys/${key}`, { signal });
        const v = parseKeyRead(env.data);
        return { mount, key, versions: v ? { state: 'ok', value: v, version: v.latest, createdTime: '' } : { state: 'absent' } };
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        return { mount, key, versions: error instanceof ApiError && error.status === 404 ? { state: 'absent' } : { state: 'error', error } };
      }
    }),
  );
}
