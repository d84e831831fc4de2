/**
 * The `identity/` mount (Vault's shapes): entities, entity aliases and groups, by id and by name,
 * CRUD + LIST. Data lives in the IdentityStore (sys/identity/ in the barrier), not in the mount's
 * own view, because the core resolves entities at login and request time without a mount.
 */
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { type Engine, type EngineRequest, type EngineResponse, EngineRouter, parseFields, vBool, vStringList, withIgnoredFields } from '../engines/index.ts';
import type { Alias, Entity, Group, IdentityStore } from './store.ts';

const NAME = z.string().min(1).max(256).regex(/^[^/\s\p{Cc}][^/\p{Cc}]*$/u, 'must not contain "/" or control characters, nor start with a space');
/** Built once: a zod v4 schema compiles its fast path on first use (~40 µs per schema built). */
const NameField = z.object({ n: NAME });
const META = z.record(z.string(), z.string()).refine((m) => Object.keys(m).length <= 64, 'at most 64 keys');
const EntityFields = z.object({ name: NAME.optional(), policies: vStringList.optional(), metadata: META.optional(), disabled: vBool.optional() });
const AliasFields = z.object({ name: z.string().min(1).max(512).regex(/^\P{Cc}+$/u, 'must not contain control characters').optional(), canonical_id: z.string().max(64).optional(), mount_accessor: z.string().max(64).optional() });
const GroupFields = z.object({
  name: NAME.optional(), type: z.enum(['internal', 'external']).optional(), policies: vStringList.optional(),
  member_entity_ids: vStringList.optional(), metadata: META.optional(),
});

/** Mount lookup by accessor (the core's mount table), for alias creation. */
export type MountByAccessor = (accessor: string) => { accessor: string; type: string; path: string } | undefined;

function entityData(e: Entity, aliases: Alias[], groupIds: string[]): Record<string, unknown> {
  return { ...e, aliases: aliases.map(aliasData), group_ids: groupIds, direct_group_ids: groupIds, namespace_id: 'root' };
}

function aliasData(a: Alias): Record<string, unknown> {
  return { ...a, mount_path: a.mount_path, namespace_id: 'root', local: false };
}

function groupData(g: Group): Record<string, unknown> {
  return { ...g, member_group_ids: [], parent_group_ids: [], alias: null, namespace_id: 'root' };
}

const notFound = () => new ArcaError('ERR_NOT_FOUND', '');

export function createIdentityEngine(store: IdentityStore, mountByAccessor: MountByAccessor, extra?: (router: EngineRouter) => void): Engine {
  const router = new EngineRouter();
  const readEntity = async (e: Entity | undefined) => {
    if (!e) throw notFound();
    const groups = await store.groupIdsOf(e.id);
    return { data: entityData(e, await store.aliasesOf(e.id), groups) };
  };
  const writeEntity = async (id: string | undefined, r: EngineRequest, name?: string) => {
    const f = parseFields(EntityFields, r.data);
    const e = await store.saveEntity(id, { ...f, ...(name ? { name } : {}) });
    return withIgnoredFields<EngineResponse>({ data: { id: e.id, name: e.name, aliases: null } }, EntityFields, r.data);
  };
  const writeAlias = async (id: string | undefined, r: EngineRequest) => {
    const f = parseFields(AliasFields, r.data);
    let mount: ReturnType<MountByAccessor>;
    if (f.mount_accessor !== undefined) {
      mount = mountByAccessor(f.mount_accessor);
      if (!mount) throw new ArcaError('ERR_INVALID_REQUEST', 'mount_accessor must name an enabled auth method', { details: { field: 'mount_accessor' } });
    }
    const a = await store.saveAlias(id, { name: f.name, canonical_id: f.canonical_id, mount });
    return withIgnoredFields<EngineResponse>({ data: { id: a.id, canonical_id: a.canonical_id } }, AliasFields, r.data);
  };
  const writeGroup = async (id: string | undefined, r: EngineRequest, name?: string) => {
    const f = parseFields(GroupFields, r.data);
    const g = await store.saveGroup(id, { ...f, ...(name ? { name } : {}) });
    return withIgnoredFields<EngineResponse>({ data: { id: g.id, name: g.name } }, GroupFields, r.data);
  };
  const keys = (ks: string[]) => ({ data: { keys: ks.sort() } });
  const byName = async <T extends { id: string }>(find: (n: string) => Promise<T | undefined>, n: string) => (await find(n))?.id;

  extra?.(router);
  router
    .add('entity', { update: (r) => writeEntity(undefined, r) })
    .add('entity/id/', { list: async () => keys(await store.entityIds()) })
    .add('entity/id/:id', {
      read: async (_r, p) => readEntity(await store.entity(p['id']!)),
      update: (r, p) => writeEntity(p['id'], r),
      delete: async (_r, p) => {
        await store.deleteEntity(p['id']!);
        return undefined;
      },
    })
    .add('entity/name/', { list: async () => keys(await store.entityNames()) })
    .add('entity/name/:name', {
      read: async (_r, p) => readEntity(await store.entityByName(p['name']!)),
      update: async (r, p) => writeEntity(await byName((n) => store.entityByName(n), p['name']!), r, parseFields(NameField, { n: p['name'] }).n),
      delete: async (_r, p) => {
        const id = await byName((n) => store.entityByName(n), p['name']!);
        if (id) await store.deleteEntity(id);
        return undefined;
      },
    })
    .add('entity-alias', { update: (r) => writeAlias(undefined, r) })
    .add('entity-alias/id/', { list: async () => keys(await store.aliasIds()) })
    .add('entity-alias/id/:id', {
      read: async (_r, p) => {
        const a = await store.alias(p['id']!);
        if (!a) throw notFound();
        return { data: aliasData(a) };
      },
      update: (r, p) => writeAlias(p['id'], r),
      delete: async (_r, p) => {
        await store.deleteAlias(p['id']!);
        return undefined;
      },
    })
    .add('group', { update: (r) => writeGroup(undefined, r) })
    .add('group/id/', { list: async () => keys(await store.groupIds()) })
    .add('group/id/:id', {
      read: async (_r, p) => {
        const g = await store.group(p['id']!);
        if (!g) throw notFound();
        return { data: groupData(g) };
      },
      update: (r, p) => writeGroup(p['id'], r),
      delete: async (_r, p) => {
        await store.deleteGroup(p['id']!);
        return undefined;
      },
    })
    .add('group/name/', { list: async () => keys(await store.groupNames()) })
    .add('group/name/:name', {
      read: async (_r, p) => {
        const g = await store.groupByName(p['name']!);
        if (!g) throw notFound();
        return { data: groupData(g) };
      },
      update: async (r, p) => writeGroup(await byName((n) => store.groupByName(n), p['name']!), r, parseFields(NameField, { n: p['name'] }).n),
      delete: async (_r, p) => {
        const id = await byName((n) => store.groupByName(n), p['name']!);
        if (id) await store.deleteGroup(id);
        return undefined;
      },
    });
  // `response`: a WebAuthn registration (attestation object, public key) is HMAC'd whole in audit entries.
  return { type: 'identity', sensitiveFields: ['url', 'barcode', 'recovery_codes', 'response'], handle: (req) => router.dispatch(req), routes: () => router.routes() };
}
