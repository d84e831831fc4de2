import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import type { EngineRequest } from '../types.ts';
import { kit } from './test-kit.ts';

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

  it('searches 10k paths with a metadata filter in reasonable time', async () => {
    const k = kit();
    for (let i = 0; i < 10_000; i++) {
      await k.call('update', `metadata/team${i % 20}/svc${i}`, { custom_metadata: { tier: i % 100 === 0 ? 'gold' : 'std' } });
    }
    const t0 = performance.now();
    const keys = await search(k, { 'metadata.tier': 'gold' });
    const ms = performance.now() - t0;
    assert.equal(keys.length, 100);
    assert.ok(ms < 5000, `search took ${ms} ms`);
  });
});
