import type { EngineRequest, EngineResponse } from '../types.ts';
import type { KvDeps } from './data.ts';
import { METADATA_PREFIX } from './records.ts';
import { invalid } from './request.ts';

/** Query parameters of the form `metadata.<key>=<value>` filter on custom_metadata equality. */
const FILTER_PREFIX = 'metadata.';
/** Metadata records read in parallel when filtering on custom_metadata. */
const READ_BATCH = 16;

interface SearchQuery {
  prefix: string;
  q: string;
  filters: [string, string][];
}

function parseQuery(data: Record<string, unknown>): SearchQuery {
  const str = (name: string, v: unknown): string => {
    if (v === undefined || v === null) return '';
    // A filter's name is caller text: the message names its kind, not the name itself.
    const field = name.startsWith(FILTER_PREFIX) ? 'metadata.<key>' : name;
    if (typeof v !== 'string') throw invalid(`search parameter ${field} must be given once, as a string`, field);
    return v;
  };
  const filters: [string, string][] = [];
  for (const [k, v] of Object.entries(data)) {
    if (k.startsWith(FILTER_PREFIX) && k.length > FILTER_PREFIX.length) filters.push([k.slice(FILTER_PREFIX.length), str(k, v)]);
  }
  return { prefix: str('prefix', data['prefix']), q: str('q', data['q']).toLowerCase(), filters };
}

/**
 * GET search?prefix=&q=&metadata.<k>=<v> (Vault has no such endpoint): the secret paths — never values —
 * that start with `prefix`, contain `q` (case-insensitive), whose custom_metadata has every given
 * key=value, and on whose `metadata/` path the caller may `list` or `read`. Walks the metadata keys
 * with storage.list from the deepest folder named by the prefix; reads metadata records only when
 * filtering on custom_metadata, and only for paths that already passed the other tests.
 */
export async function search(d: KvDeps, req: EngineRequest): Promise<EngineResponse> {
  const { prefix, q, filters } = parseQuery(req.data);
  if (prefix.split('/').some((s) => s === '.' || s === '..') || /\p{Cc}/u.test(prefix)) {
    throw invalid('search prefix must not contain ".", ".." segments or control characters', 'prefix');
  }
  const allowed = (path: string): boolean => {
    const full = `${req.mountPoint}metadata/${path}`;
    return req.can(full, 'list') || req.can(full, 'read');
  };
  const candidates: string[] = [];
  const stack = [prefix.slice(0, prefix.lastIndexOf('/') + 1)];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    for (const child of await d.store.list(METADATA_PREFIX + dir)) {
      const path = dir + child;
      if (child.endsWith('/')) {
        if (path.startsWith(prefix) || prefix.startsWith(path)) stack.push(path);
        continue;
      }
      if (!path.startsWith(prefix)) continue;
      if (q !== '' && !path.toLowerCase().includes(q)) continue;
      if (allowed(path)) candidates.push(path);
    }
  }
  let keys = candidates;
  if (filters.length > 0) {
    keys = [];
    for (let i = 0; i < candidates.length; i += READ_BATCH) {
      const batch = candidates.slice(i, i + READ_BATCH);
      const metas = await Promise.all(batch.map((p) => d.store.meta(p)));
      batch.forEach((p, j) => {
        const custom = metas[j]?.custom;
        if (custom && filters.every(([k, v]) => Object.hasOwn(custom, k) && custom[k] === v)) keys.push(p);
      });
    }
  }
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { data: { keys } };
}
