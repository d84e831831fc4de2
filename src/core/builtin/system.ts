/**
 * `sys/` logical endpoints (authenticated, audited): mounts, barrier rotation and key status,
 * capabilities. Raw status endpoints (init, unseal, seal-status, health, metrics) live in the HTTP
 * adapter because Vault serves them outside the logical envelope.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type Engine, EngineRouter, parseFields, vStringList } from '../../engines/index.ts';
import type { Core } from '../core.ts';
import { normalizeMountPath, type MountEntry } from '../mounts.ts';

export interface SystemExtension {
  /** Extra routes contributed by other modules (policies, audit), added before the built-ins. */
  register(router: EngineRouter): void;
}

function mountInfo(m: MountEntry): Record<string, unknown> {
  return {
    accessor: m.accessor,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: m.description,
    external_entropy_access: false,
    local: m.local,
    options: Object.keys(m.options).length ? m.options : null,
    plugin_version: '',
    running_plugin_version: '',
    running_sha256: '',
    seal_wrap: m.sealWrap,
    type: m.type,
    uuid: m.uuid,
  };
}

const MountFields = z.object({
  type: z.string().min(1, 'missing type'),
  description: z.string().optional(),
  options: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).nullable().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});

export function createSystemEngine(core: Core, extensions: SystemExtension[] = []): Engine {
  const router = new EngineRouter();
  for (const x of extensions) x.register(router);
  const listMounts = async () => {
    const data: Record<string, unknown> = {};
    for (const m of core.mounts.all) if (!m.path.startsWith('auth/')) data[m.path] = mountInfo(m);
    return { data };
  };
  router
    .add('mounts', { read: listMounts })
    .add('mounts/:path*', {
      update: async (r, p) => {
        const f = parseFields(MountFields, r.data);
        const options = { ...(f.options ?? {}) };
        const [type, ver] = f.type === 'kv-v2' ? ['kv', '2'] : [f.type, options['version']];
        if (type === 'kv') options['version'] = ver ?? '2';
        if (type === 'kv' && options['version'] !== '2') throw new ArcaError('ERR_INVALID_REQUEST', 'only KV version 2 is supported');
        await core.mount(p['path']!, type, options, f.description ?? '');
        return undefined;
      },
      delete: async (_r, p) => {
        await core.unmount(p['path']!);
        return undefined;
      },
      read: async (_r, p) => {
        const m = core.mounts.all.find((x) => x.path === normalizeMountPath(p['path']!));
        if (!m) throw new ArcaError('ERR_INVALID_REQUEST', `no mount at ${p['path']}`);
        return { data: mountInfo(m) };
      },
    })
    .add('internal/ui/mounts/:path*', {
      read: async (_r, p) => {
        const m = core.mounts.match(p['path']!);
        if (!m) throw new ArcaError('ERR_PERMISSION_DENIED', 'permission denied');
        return { data: { ...mountInfo(m), path: m.path } };
      },
    })
    .add('rotate', {
      update: async () => {
        await core.barrier.rotate();
        return undefined;
      },
    })
    .add('key-status', {
      read: async () => {
        const s = core.barrier.keyStatus();
        return { data: { term: s.term, install_time: new Date(s.installedAt).toISOString(), encryptions: null } };
      },
    })
    .add('capabilities-self', {
      update: async (r) => {
        const { paths } = parseFields(z.object({ paths: vStringList.optional(), path: vStringList.optional() }).transform((x) => ({ paths: x.paths ?? x.path ?? [] })), r.data);
        const az = await core.authorizerFor(r.auth?.policies ?? []);
        const data: Record<string, unknown> = {};
        for (const p of paths) {
          // Vault answers `["root"]` for a root token, not the capability list.
          const caps = r.auth?.root ? ['root'] : [...az.capabilities(p)].sort();
          data[p] = caps.length ? caps : ['deny'];
        }
        if (paths.length === 1) data['capabilities'] = data[paths[0]!];
        return { data };
      },
    });
  return { type: 'system', sensitiveFields: ['input'], handle: (req) => router.dispatch({ ...req, path: req.path.replace(/\/$/, '') }), routes: () => router.routes() };
}
