/**
 * The storage fence against a real PostgreSQL: a replica whose lease expired and was taken over can
 * no longer write — even though it never noticed (it simply stopped renewing, as a paused process does).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PostgresHandle, startPostgres, waitFor } from '../../test/harness/index.ts';
import { PostgresStorage } from '../storage/index.ts';
import { FencedStorage } from './fenced-storage.ts';
import { PgLease } from './lease.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const named = (url: string, name: string) => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

describe('HA storage fence (PostgreSQL)', () => {
  let pg: PostgresHandle;
  let url: string;
  let lease: PgLease;
  let a: PostgresStorage;
  let b: PostgresStorage;
  let fencedA = 0;

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    a = await PostgresStorage.open({ url: named(url, 'replica-a') });
    b = await PostgresStorage.open({ url: named(url, 'replica-b') });
    lease = new PgLease(url, 'arca_kv');
    await lease.setup();
    await new PgLease(url, 'arca_kv').setup().then(() => undefined); // a second replica's setup is harmless
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await lease?.close();
    await pg?.stop();
  });

  it('allows writes from anyone while nobody holds a valid lease (init before unseal)', async () => {
    await a.put('init/a', enc('1'));
    await b.put('init/b', enc('1'));
  });

  it('lets only the holder write', async () => {
    assert.equal(await lease.tryAcquire('replica-a', 'http://a', 1), true);
    assert.equal(await lease.tryAcquire('replica-b', 'http://b', 1), false);
    await a.put('k', enc('from-a'));
    const fb = new FencedStorage(b, () => {});
    await assert.rejects(fb.put('k', enc('from-b')), { code: 'ERR_HA_LEASE_LOST' });
    await assert.rejects(fb.delete('k'), { code: 'ERR_HA_LEASE_LOST' });
    await assert.rejects(fb.putIf('k', enc('x'), enc('from-a')), { code: 'ERR_HA_LEASE_LOST' });
    assert.equal(new TextDecoder().decode(await b.get('k')), 'from-a', 'reads still work for standbys');
  });

  it('refuses the old holder after a takeover it never noticed', async () => {
    const fa = new FencedStorage(a, () => fencedA++);
    // A "paused": its 1 s lease lapses unrenewed (by the database clock).
    await waitFor('the lease to lapse', async () => ((await lease.current())?.valid === false ? true : undefined), 15_000, 100);
    assert.equal(await lease.tryAcquire('replica-b', 'http://b', 5), true);
    await assert.rejects(fa.put('k', enc('stale-a')), { code: 'ERR_HA_LEASE_LOST' });
    assert.equal(fencedA, 1, 'the manager is told at once');
    await b.put('k', enc('from-b'));
    assert.equal(new TextDecoder().decode(await a.get('k')), 'from-b');
    const cur = await lease.current();
    assert.equal(cur?.holder, 'replica-b');
    assert.equal(cur?.valid, true);
  });

  it('hands over at once on release', async () => {
    await lease.release('replica-b');
    assert.equal(await lease.tryAcquire('replica-a', 'http://a', 5), true);
    await a.put('k', enc('a-again'));
  });
});
