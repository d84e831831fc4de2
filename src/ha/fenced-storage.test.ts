/**
 * FencedStorage is a Storage like any other: the conformance suite, run through the real fence
 * (PostgreSQL trigger installed, the lease held by this store's session), so every operation of the
 * contract also passes the trigger. A refused write is covered in fence.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type PostgresHandle, startPostgres } from '../../test/harness/index.ts';
import { exerciseStorage } from '../storage/conformance.ts';
import { PostgresStorage } from '../storage/index.ts';
import { FencedStorage } from './fenced-storage.ts';
import { PgLease } from './lease.ts';

let pg: PostgresHandle;
let fenced = 0;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

class LeasedStore extends FencedStorage {
  readonly #lease: PgLease;
  constructor(inner: PostgresStorage, lease: PgLease) {
    super(inner, () => fenced++);
    this.#lease = lease;
  }
  override async close(): Promise<void> {
    await super.close();
    await this.#lease.close();
  }
}

exerciseStorage('fenced postgres (lease held)', async () => {
  const url = await pg.createDatabase();
  const u = new URL(url);
  u.searchParams.set('application_name', 'holder');
  const inner = await PostgresStorage.open({ url: u.toString() });
  const lease = new PgLease(url, 'arca_kv');
  await lease.setup();
  // Long enough for any one test: the trigger checks every write against it.
  assert.equal(await lease.tryAcquire('holder', 'http://holder', 600), true);
  return new LeasedStore(inner, lease);
});

it('never reported a fenced write while holding the lease', () => {
  assert.equal(fenced, 0);
});
