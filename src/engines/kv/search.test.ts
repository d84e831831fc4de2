import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import type { EngineRequest } from '../types.ts';
import { kit } from './test-kit.ts';

/** Counts the storage reads search makes. */
class CountingStorage extends InmemStorage {
  gets = 0;
  lists = 0;
  override get(key: string): Promise<Uint8Array | undefined> {
    this.gets++;
    return super.get(key);
  }
  override list(prefix: string): Promise<string[]> {
    this.lists++;
    return super.list(prefix);
  }
  reset(): void {
    this.gets = 0;
    this.lists = 0;
  }
}

async function seed() {
  const k = kit();
  const paths: [string, Record<string, string> | undefined][] = [
    ['app/db', { owner: 'payments', env: 'prod' }],
    ['app/cache', { owner: 'payments', env: 'dev' }],
    ['app/team/payments-api', { owner: 'search', env: 'prod' }],
    ['billing/db', { owner: 'billing', env: 'prod' }],
    ['billing/secret-hidden', { owner: 'payments', env: 'prod' }],
    ['top', undefined],
  ];
  for (const [p, custom] of paths) {
    if (custom) await k.call('update', `metadata/${p}`, { custom_metadata: custom });
    await k.data('update', `data/${p}`, { data: { value: `value-of-${p}` } });
  }
  return k;
}

async function search(k: Awaited<ReturnType<typeof seed>>, q: Record<string, unknown>, can: EngineRequest['can'] = () => true) {
  const r = await k.call('read', 'search', q, can);
  assert.ok(r?.data);
  assert.deepEqual(Object.keys(r.data), ['keys']);
  return r.data['keys'] as string[];
}

describe('kv search', () => {
  it('matches by prefix, by substring of the path, and lists every path without filters', async () => {
    const k = await seed();
    assert.deepEqual(await search(k, {}), ['app/cache', 'app/db', 'app/team/payments-api', 'billing/db', 'billing/secret-hidden', 'top']);
    assert.deepEqual(await search(k, { prefix: 'app/' }), ['app/cache', 'app/db', 'app/team/payments-api']);
    assert.deepEqual(await search(k, { prefix: 'bil' }), ['billing/db', 'billing/secret-hidden']);
    assert.deepEqual(await search(k, { prefix: 'app/te' }), ['app/team/payments-api']);
    assert.deepEqual(await search(k, { q: 'DB' }), ['app/db', 'billing/db']);
    assert.deepEqual(await search(k, { prefix: 'nothing/' }), []);
  });

  it('filters on custom_metadata equality, all filters at once', async () => {
    const k = await seed();
    assert.deepEqual(await search(k, { 'metadata.owner': 'payments' }), ['app/cache', 'app/db', 'billing/secret-hidden']);
    assert.deepEqual(await search(k, { 'metadata.owner': 'payments', 'metadata.env': 'prod', prefix: 'app/' }), ['app/db']);
    assert.deepEqual(await search(k, { 'metadata.owner': 'pay' }), []);
  });

  it('returns only paths the caller may list or read, checked on the metadata path', async () => {
    const k = await seed();
    const asked: string[] = [];
    const can: EngineRequest['can'] = (full, cap) => {
      asked.push(`${cap} ${full}`);
      if (full.startsWith('secret/metadata/billing/')) return false;
      if (full === 'secret/metadata/app/db') return cap === 'read';
      return full.startsWith('secret/metadata/app/');
    };
    assert.deepEqual(await search(k, { 'metadata.owner': 'payments' }, can), ['app/cache', 'app/db']);
    assert.ok(asked.includes('list secret/metadata/billing/secret-hidden'));
  });

  it('never returns secret values', async () => {
    const k = await seed();
    const r = await k.call('read', 'search', { q: 'value' });
    assert.ok(!JSON.stringify(r).includes('value-of-'));
  });

  it('rejects a repeated query parameter and a prefix with .. segments', async () => {
    const k = await seed();
    await assert.rejects(k.call('read', 'search', { q: ['a', 'b'] }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    await assert.rejects(k.call('read', 'search', { prefix: 'app/../' }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
  });

  it('searches 10k paths with a metadata filter, reading only what the query needs', async () => {
    // Cost as a count of storage calls, not a time: the walk lists only folders under the prefix, and
    // metadata records are read once per path that passed the path tests, and only to filter on them.
    const storage = new CountingStorage();
    const k = kit(storage);
    for (let i = 0; i < 10_000; i++) {
      await k.call('update', `metadata/team${i % 20}/svc${i}`, { custom_metadata: { tier: i % 100 === 0 ? 'gold' : 'std' } });
    }
    const gold = Array.from({ length: 100 }, (_, j) => `team0/svc${j * 100}`).sort();
    const counted = async (q: Record<string, unknown>) => {
      storage.reset();
      const keys = await search(k, q);
      return { keys, gets: storage.gets, lists: storage.lists };
    };
    // Everything: the root and its 20 folders listed, every one of the 10k metadata records read once.
    assert.deepEqual(await counted({ 'metadata.tier': 'gold' }), { keys: gold, gets: 10_000, lists: 21 });
    // Under a prefix: one folder listed, its 500 records read.
    assert.deepEqual(await counted({ 'metadata.tier': 'gold', prefix: 'team0/' }), { keys: gold, gets: 500, lists: 1 });
    assert.deepEqual(await counted({ 'metadata.tier': 'gold', prefix: 'team1/' }), { keys: [], gets: 500, lists: 1 });
    // The path test first: only the 111 paths containing "svc99" (svc99, svc990-999, svc9900-9999) are
    // read, and the one gold among them (svc9900) is filtered out.
    const named99 = Array.from({ length: 10_000 }, (_, i) => i).filter((i) => `svc${i}`.includes('svc99'));
    assert.equal(named99.length, 111);
    const std99 = named99.filter((i) => i % 100 !== 0).map((i) => `team${i % 20}/svc${i}`).sort();
    assert.equal(std99.length, 110);
    assert.deepEqual(await counted({ 'metadata.tier': 'std', q: 'svc99' }), { keys: std99, gets: 111, lists: 21 });
    // No metadata filter: no record is read at all.
    const all = await counted({});
    assert.equal(all.keys.length, 10_000);
    assert.equal(all.gets, 0);
  });
});
