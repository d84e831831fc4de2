import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.ts';
import { IDENTITY_CACHE_MS, IdentityStore } from './store.ts';

const MOUNT = { accessor: 'auth_kubernetes_1234', type: 'kubernetes', path: 'auth/kubernetes/' };

function setup() {
  const storage = new InmemStorage();
  let now = 1_000_000;
  const store = new IdentityStore(() => storage, () => now);
  return { storage, store, advance: (ms: number) => (now += ms) };
}

describe('IdentityStore.resolve (login alias → entity)', () => {
  it('resolves repeated logins of one alias to one entity', async () => {
    const { store } = setup();
    const a = await store.resolve(MOUNT, 'sa-uid-1');
    assert.equal(await store.resolve(MOUNT, 'sa-uid-1'), a);
    assert.notEqual(await store.resolve(MOUNT, 'sa-uid-2'), a);
  });

  it('creates a new entity after the alias is deleted through this store, within the cache bound', async () => {
    const { store } = setup();
    const first = await store.resolve(MOUNT, 'sa-uid-1');
    const [alias] = await store.aliasesOf(first);
    await store.deleteAlias(alias!.id);
    const second = await store.resolve(MOUNT, 'sa-uid-1');
    assert.notEqual(second, first);
    assert.ok(await store.entity(second));
  });

  it('follows an alias moved to another entity (e.g. by another replica) once the cache bound has passed', async () => {
    const { storage, store, advance } = setup();
    const other = await store.saveEntity(undefined, { name: 'other' });
    const first = await store.resolve(MOUNT, 'sa-uid-1');
    // Another replica re-points the alias record, writing storage directly (this store is not told).
    const [alias] = await store.aliasesOf(first);
    await storage.put(`alias/${alias!.id}`, new TextEncoder().encode(JSON.stringify({ ...alias, canonical_id: other.id })));
    const seen = await store.resolve(MOUNT, 'sa-uid-1');
    // Either the old or the new entity inside the bound; the new one after it.
    assert.ok(seen === first || seen === other.id);
    advance(IDENTITY_CACHE_MS);
    assert.equal(await store.resolve(MOUNT, 'sa-uid-1'), other.id);
  });
});

describe('IdentityStore: a record and its name index are written together', () => {
  /** Real in-memory storage whose commits fail on demand, as an unreachable backend's do. */
  class FailingStorage extends InmemStorage {
    failing = false;
    override async commit(ops: Parameters<InmemStorage['commit']>[0]): Promise<boolean> {
      if (this.failing) throw new Error('backend down');
      return super.commit(ops);
    }
  }

  async function keys(storage: InmemStorage, prefix: string): Promise<string[]> {
    return (await storage.list(prefix)).sort();
  }

  it('renames an entity and a group: the new name points at it, the old name is gone', async () => {
    const { storage, store } = setup();
    const e = await store.saveEntity(undefined, { name: 'before' });
    await store.saveEntity(e.id, { name: 'after' });
    assert.deepEqual(await keys(storage, 'entity-name/'), ['after']);
    assert.equal((await store.entityByName('after'))?.id, e.id);
    const g = await store.saveGroup(undefined, { name: 'g1' });
    await store.saveGroup(g.id, { name: 'g2' });
    assert.deepEqual(await keys(storage, 'group-name/'), ['g2']);
    // Saving under its own name again is no conflict.
    await store.saveGroup(g.id, { policies: ['p'] });
    assert.deepEqual((await store.groupByName('g2'))?.policies, ['p']);
  });

  it('leaves neither the record nor the name when the write fails', async () => {
    const storage = new FailingStorage();
    const store = new IdentityStore(() => storage, () => 1_000_000);
    storage.failing = true;
    await assert.rejects(store.saveEntity(undefined, { name: 'e' }), /backend down/);
    await assert.rejects(store.saveGroup(undefined, { name: 'g' }), /backend down/);
    assert.deepEqual(await keys(storage, ''), []);
  });

  it('gives a name claimed concurrently to one of the two requests only', async () => {
    const { storage, store } = setup();
    const r = await Promise.allSettled([store.saveEntity(undefined, { name: 'same' }), store.saveEntity(undefined, { name: 'same' })]);
    assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
    assert.equal((await keys(storage, 'entity/')).length, 1, 'the loser wrote no record');
    const winner = r.find((x) => x.status === 'fulfilled') as PromiseFulfilledResult<{ id: string }>;
    assert.equal((await store.entityByName('same'))?.id, winner.value.id);
  });
});

describe('IdentityStore: deletes are one commit', () => {
  it('deletes an entity with its name, aliases, alias indexes and group memberships, and nothing of it when the write fails', async () => {
    const storage = new (class extends InmemStorage {
      failing = false;
      override async commit(ops: Parameters<InmemStorage['commit']>[0]): Promise<boolean> {
        if (this.failing) throw new Error('backend down');
        return super.commit(ops);
      }
    })();
    const store = new IdentityStore(() => storage, () => 1_000_000);
    const id = await store.resolve(MOUNT, 'sa-uid-9');
    const g = await store.saveGroup(undefined, { name: 'team', member_entity_ids: [id] });
    const dump = async () => {
      const out: string[] = [];
      const walk = async (p: string): Promise<void> => {
        for (const c of await storage.list(p)) c.endsWith('/') ? await walk(p + c) : out.push(p + c);
      };
      await walk('');
      return out.sort();
    };
    const before = await dump();
    storage.failing = true;
    await assert.rejects(store.deleteEntity(id), /backend down/);
    assert.deepEqual(await dump(), before);
    storage.failing = false;
    await store.deleteEntity(id);
    assert.equal(await store.entity(id), undefined);
    assert.deepEqual(await store.aliasIds(), []);
    assert.deepEqual((await store.group(g.id))?.member_entity_ids, []);
    assert.deepEqual((await dump()).filter((k) => !k.startsWith('group')), []);
  });
});
