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
