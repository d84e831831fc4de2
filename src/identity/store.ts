/**
 * Identity store (Vault's `identity/` subset): entities, entity aliases and groups, inside the
 * barrier under `sys/identity/` (beside policies, so the core can resolve an entity without a mount).
 *
 * Storage:
 *   entity/<id>                     Entity JSON
 *   entity-name/<name>              <id>     (names are unique, case-sensitive as in Vault)
 *   alias/<id>                      Alias JSON
 *   alias-key/<accessor>/<name>     <id>     (one alias per auth mount + name; name URI-encoded)
 *   group/<id>                      Group JSON
 *   group-name/<name>               <id>
 *
 * Policies of an entity (its own ∪ its groups'), and the entity a login's alias resolves to, are cached
 * in memory for IDENTITY_CACHE_MS. Every write through this process drops both caches at once; another
 * HA replica's write is seen within that bound, which is the documented bound for "removed from a
 * group → live tokens lose the policies" (and now also for an alias moved or deleted elsewhere).
 */
import { randomUUID } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import type { Storage } from '../storage/index.ts';

export const IDENTITY_CACHE_MS = 5_000;

export interface Entity {
  id: string;
  name: string;
  policies: string[];
  metadata: Record<string, string>;
  disabled: boolean;
  creation_time: string;
  last_update_time: string;
}

export interface Alias {
  id: string;
  canonical_id: string;
  mount_accessor: string;
  mount_type: string;
  mount_path: string;
  name: string;
  metadata: Record<string, string>;
  creation_time: string;
}

export interface Group {
  id: string;
  name: string;
  type: 'internal' | 'external';
  policies: string[];
  member_entity_ids: string[];
  metadata: Record<string, string>;
  creation_time: string;
  last_update_time: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const aliasKey = (accessor: string, name: string) => `alias-key/${accessor}/${encodeURIComponent(name)}`;

export class IdentityStore {
  readonly #s: () => Storage;
  readonly #now: () => number;
  #cache = new Map<string, { at: number; policies: string[] | undefined }>();
  /**
   * Alias key → its entity, for logins (every login resolves its alias: two storage reads and a JSON
   * parse, ~8% of a JWKS login's core CPU by bench/login-cpu.ts). Same bound and same drops as #cache.
   */
  #aliases = new Map<string, { at: number; entityId: string }>();

  constructor(storage: () => Storage, now: () => number = Date.now) {
    this.#s = storage;
    this.#now = now;
  }

  /** Drops both caches: every write through this process, and the HA manager on takeover. */
  invalidate(): void {
    this.#cache.clear();
    this.#aliases.clear();
  }

  async #get<T>(key: string): Promise<T | undefined> {
    const b = await this.#s().get(key);
    return b ? (JSON.parse(dec.decode(b)) as T) : undefined;
  }

  /**
   * A record and its name index (and the old name's removal) in one atomic commit, so a failure
   * leaves neither; `expectName` is the index value read before (a concurrent claim of the name fails it).
   */
  async #commitNamed(record: [key: string, value: unknown], name: [key: string, id: string], expectName: string | undefined, oldName: string | undefined): Promise<void> {
    const ok = await this.#s().commit({
      puts: [[record[0], enc.encode(JSON.stringify(record[1]))], [name[0], enc.encode(name[1])]],
      deletes: oldName !== undefined && oldName !== name[0] ? [oldName] : [],
      expect: [[name[0], expectName === undefined ? undefined : enc.encode(expectName)]],
    });
    this.invalidate();
    if (!ok) throw new ArcaError('ERR_IDENTITY_CONFLICT', 'the name was taken by a concurrent request; retry');
  }

  async #ref(key: string): Promise<string | undefined> {
    const b = await this.#s().get(key);
    return b ? dec.decode(b) : undefined;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  // ---- entities
  async entity(id: string): Promise<Entity | undefined> {
    return this.#get<Entity>(`entity/${id}`);
  }

  async entityByName(name: string): Promise<Entity | undefined> {
    const id = await this.#ref(`entity-name/${name}`);
    return id ? this.entity(id) : undefined;
  }

  async entityIds(): Promise<string[]> {
    return this.#s().list('entity/');
  }

  async entityNames(): Promise<string[]> {
    return this.#s().list('entity-name/');
  }

  /** Creates (no id) or updates an entity; `patch` fields not given keep their value. */
  async saveEntity(id: string | undefined, patch: Partial<Pick<Entity, 'name' | 'policies' | 'metadata' | 'disabled'>>): Promise<Entity> {
    const cur = id ? await this.entity(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no entity with this id');
    const now = this.#iso();
    const eid = cur?.id ?? randomUUID();
    const name = patch.name ?? cur?.name ?? `entity_${eid.slice(0, 8)}`;
    const other = await this.#ref(`entity-name/${name}`);
    if (other && other !== eid) throw new ArcaError('ERR_IDENTITY_CONFLICT', 'an entity with this name already exists');
    const e = entityRecord(eid, name, now, patch, cur);
    await this.#commitNamed([`entity/${eid}`, e], [`entity-name/${name}`, eid], other, cur && `entity-name/${cur.name}`);
    return e;
  }

  async deleteEntity(id: string): Promise<void> {
    const e = await this.entity(id);
    if (!e) return;
    // One commit: the entity, its name, its aliases (and their indexes) and its group memberships.
    const aliases = await this.aliasesOf(id);
    const groups = (await this.groups()).filter((g) => g.member_entity_ids.includes(id));
    await this.#s().commit({
      puts: groups.map((g) => [`group/${g.id}`, enc.encode(JSON.stringify({ ...g, member_entity_ids: g.member_entity_ids.filter((x) => x !== id) }))] as const),
      deletes: [...aliases.flatMap((a) => [aliasKey(a.mount_accessor, a.name), `alias/${a.id}`]), `entity-name/${e.name}`, `entity/${id}`],
    });
    this.invalidate();
  }

  // ---- aliases
  async alias(id: string): Promise<Alias | undefined> {
    return this.#get<Alias>(`alias/${id}`);
  }

  async aliasIds(): Promise<string[]> {
    return this.#s().list('alias/');
  }

  async aliasesOf(entityId: string): Promise<Alias[]> {
    const out: Alias[] = [];
    for (const id of await this.aliasIds()) {
      const a = await this.alias(id);
      if (a?.canonical_id === entityId) out.push(a);
    }
    return out;
  }

  async saveAlias(id: string | undefined, f: { name?: string | undefined; canonical_id?: string | undefined; mount?: { accessor: string; type: string; path: string } | undefined }): Promise<Alias> {
    const cur = id ? await this.alias(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no entity alias with this id');
    const canonical = f.canonical_id ?? cur?.canonical_id;
    if (!canonical || !(await this.entity(canonical))) throw new ArcaError('ERR_INVALID_REQUEST', 'canonical_id must name an existing entity', { details: { field: 'canonical_id' } });
    const mount = f.mount ?? (cur ? { accessor: cur.mount_accessor, type: cur.mount_type, path: cur.mount_path } : undefined);
    const name = f.name ?? cur?.name;
    if (!mount || !name) throw new ArcaError('ERR_INVALID_REQUEST', 'name and mount_accessor are required', { details: { field: name ? 'mount_accessor' : 'name' } });
    const aid = cur?.id ?? randomUUID();
    const key = aliasKey(mount.accessor, name);
    const other = await this.#ref(key);
    if (other && other !== aid) throw new ArcaError('ERR_IDENTITY_CONFLICT', 'an alias with this name already exists on this auth mount');
    const a: Alias = { id: aid, canonical_id: canonical, mount_accessor: mount.accessor, mount_type: mount.type, mount_path: mount.path, name, metadata: cur?.metadata ?? {}, creation_time: cur?.creation_time ?? this.#iso() };
    await this.#commitNamed([`alias/${aid}`, a], [key, aid], other, cur && aliasKey(cur.mount_accessor, cur.name));
    return a;
  }

  async deleteAlias(id: string): Promise<void> {
    const a = await this.alias(id);
    if (!a) return;
    await this.#s().commit({ deletes: [aliasKey(a.mount_accessor, a.name), `alias/${id}`] });
    this.invalidate();
  }

  /**
   * The entity behind an auth method's login: its alias on this mount, else a new entity and alias
   * (first login). Concurrent first logins of one name converge on one alias (compare-and-set).
   */
  async resolve(mount: { accessor: string; type: string; path: string }, name: string, metadata: Record<string, string> = {}, groups?: string[]): Promise<string> {
    const id = await this.#resolveAlias(mount, name, metadata);
    if (groups) await this.#syncExternalGroups(id, groups);
    return id;
  }

  /**
   * External groups follow the provider's groups claim at every login: the entity joins the external
   * groups named in it and leaves the others. Internal groups are never touched.
   */
  async #syncExternalGroups(entityId: string, names: string[]): Promise<void> {
    const puts: [string, Uint8Array][] = [];
    for (const g of await this.groups()) {
      if (g.type !== 'external') continue;
      const member = g.member_entity_ids.includes(entityId);
      const want = names.includes(g.name);
      if (member === want) continue;
      const members = want ? [...g.member_entity_ids, entityId] : g.member_entity_ids.filter((m) => m !== entityId);
      puts.push([`group/${g.id}`, enc.encode(JSON.stringify({ ...g, member_entity_ids: members, last_update_time: this.#iso() }))]);
    }
    // Every membership change of this login in one commit.
    if (puts.length) {
      await this.#s().commit({ puts });
      this.invalidate();
    }
  }

  async #resolveAlias(mount: { accessor: string; type: string; path: string }, name: string, metadata: Record<string, string>): Promise<string> {
    const key = aliasKey(mount.accessor, name);
    const hit = this.#aliases.get(key);
    if (hit && this.#now() - hit.at < IDENTITY_CACHE_MS) return hit.entityId;
    const existing = await this.#ref(key);
    if (existing) {
      const a = await this.alias(existing);
      if (a) {
        if (this.#aliases.size > 10_000) this.#aliases.clear();
        this.#aliases.set(key, { at: this.#now(), entityId: a.canonical_id });
        return a.canonical_id;
      }
    }
    // First login: the entity, its name, the alias and its index in one commit, so a failure leaves
    // none of them; the index's expected value makes concurrent first logins converge on one alias.
    const eid = randomUUID();
    const e = entityRecord(eid, `entity_${eid.slice(0, 8)}`, this.#iso(), {});
    const aid = randomUUID();
    const a: Alias = { id: aid, canonical_id: eid, mount_accessor: mount.accessor, mount_type: mount.type, mount_path: mount.path, name, metadata, creation_time: this.#iso() };
    const won = await this.#s().commit({
      puts: [[`entity/${eid}`, enc.encode(JSON.stringify(e))], [`entity-name/${e.name}`, enc.encode(eid)], [`alias/${aid}`, enc.encode(JSON.stringify(a))], [key, enc.encode(aid)]],
      expect: [[key, existing === undefined ? undefined : enc.encode(existing)], [`entity-name/${e.name}`, undefined]],
    });
    this.invalidate();
    if (won) return eid;
    const winner = await this.#ref(key);
    const w = winner ? await this.alias(winner) : undefined;
    if (!w) throw new ArcaError('ERR_STORAGE_CONFLICT', 'concurrent first logins; retry');
    return w.canonical_id;
  }

  // ---- groups
  async group(id: string): Promise<Group | undefined> {
    return this.#get<Group>(`group/${id}`);
  }

  async groupByName(name: string): Promise<Group | undefined> {
    const id = await this.#ref(`group-name/${name}`);
    return id ? this.group(id) : undefined;
  }

  async groupIds(): Promise<string[]> {
    return this.#s().list('group/');
  }

  async groupNames(): Promise<string[]> {
    return this.#s().list('group-name/');
  }

  async groups(): Promise<Group[]> {
    const out: Group[] = [];
    for (const id of await this.groupIds()) {
      const g = await this.group(id);
      if (g) out.push(g);
    }
    return out;
  }

  async saveGroup(id: string | undefined, patch: Partial<Pick<Group, 'name' | 'type' | 'policies' | 'member_entity_ids' | 'metadata'>>): Promise<Group> {
    const cur = id ? await this.group(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no group with this id');
    const gid = cur?.id ?? randomUUID();
    const name = patch.name ?? cur?.name ?? `group_${gid.slice(0, 8)}`;
    const other = await this.#ref(`group-name/${name}`);
    if (other && other !== gid) throw new ArcaError('ERR_IDENTITY_CONFLICT', 'a group with this name already exists');
    const members = patch.member_entity_ids ?? cur?.member_entity_ids ?? [];
    for (const m of members) if (!(await this.entity(m))) throw new ArcaError('ERR_INVALID_REQUEST', 'member_entity_ids must name existing entities', { details: { field: 'member_entity_ids' } });
    const now = this.#iso();
    const g: Group = {
      id: gid, name, type: patch.type ?? cur?.type ?? 'internal', policies: patch.policies ?? cur?.policies ?? [],
      member_entity_ids: [...new Set(members)], metadata: patch.metadata ?? cur?.metadata ?? {},
      creation_time: cur?.creation_time ?? now, last_update_time: now,
    };
    await this.#commitNamed([`group/${gid}`, g], [`group-name/${name}`, gid], other, cur && `group-name/${cur.name}`);
    return g;
  }

  async deleteGroup(id: string): Promise<void> {
    const g = await this.group(id);
    if (!g) return;
    await this.#s().commit({ deletes: [`group-name/${g.name}`, `group/${id}`] });
    this.invalidate();
  }

  /** Names of the groups an entity belongs to (control-group factors match on these). */
  async groupNamesOf(entityId: string): Promise<string[]> {
    return (await this.groups()).filter((g) => g.member_entity_ids.includes(entityId)).map((g) => g.name);
  }

  /** Ids of the groups an entity belongs to (MFA login enforcements and entity reads). */
  async groupIdsOf(entityId: string): Promise<string[]> {
    return (await this.groups()).filter((g) => g.member_entity_ids.includes(entityId)).map((g) => g.id);
  }

  /**
   * The entity's policies and its groups', or undefined when the entity is disabled or gone (its
   * tokens then get no identity policies at all). Cached for IDENTITY_CACHE_MS.
   */
  async policies(entityId: string): Promise<string[] | undefined> {
    const hit = this.#cache.get(entityId);
    if (hit && this.#now() - hit.at < IDENTITY_CACHE_MS) return hit.policies;
    const e = await this.entity(entityId);
    let policies: string[] | undefined;
    if (e && !e.disabled) {
      const set = new Set(e.policies);
      for (const g of await this.groups()) if (g.member_entity_ids.includes(entityId)) for (const p of g.policies) set.add(p);
      policies = [...set].sort();
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(entityId, { at: this.#now(), policies });
    return policies;
  }
}

/** An entity record: `patch`'s fields, else the current record's, else the defaults of a new entity. */
function entityRecord(id: string, name: string, now: string, patch: Partial<Pick<Entity, 'policies' | 'metadata' | 'disabled'>>, cur?: Entity): Entity {
  return {
    id, name, policies: patch.policies ?? cur?.policies ?? [], metadata: patch.metadata ?? cur?.metadata ?? {},
    disabled: patch.disabled ?? cur?.disabled ?? false, creation_time: cur?.creation_time ?? now, last_update_time: now,
  };
}
