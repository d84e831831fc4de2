import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { allKeys, kit } from './test-kit.ts';

const notFound = (e: unknown) => isArcaError(e, 'ERR_NOT_FOUND') && e.message === '';
const invalid = (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST');
const outOfRange = (e: unknown) => isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE');

describe('kv metadata', () => {
  it('reads metadata in Vault shape with versions keyed by number strings', async () => {
    const k = kit();
    await k.data('update', 'data/app', { data: { a: 1 } });
    k.clock.ms += 2000;
    await k.data('update', 'data/app', { data: { a: 2 } });
    await k.call('update', 'destroy/app', { versions: [1] });
    const m = await k.data('read', 'metadata/app');
    assert.deepEqual(Object.keys(m), [
      'cas_required', 'created_time', 'current_version', 'custom_metadata', 'delete_version_after',
      'max_versions', 'oldest_version', 'updated_time', 'versions',
    ]);
    assert.deepEqual(m, {
      cas_required: false,
      created_time: '2026-11-22T12:00:00.000123Z',
      current_version: 2,
      custom_metadata: null,
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 0,
      updated_time: '2026-11-22T12:00:02.000123Z',
      versions: {
        '1': { created_time: '2026-11-22T12:00:00.000123Z', deletion_time: '', destroyed: true },
        '2': { created_time: '2026-11-22T12:00:02.000123Z', deletion_time: '', destroyed: false },
      },
    });
  });

  it('creates metadata without a version and lets the first write use cas 0', async () => {
    const k = kit();
    assert.equal(await k.call('update', 'metadata/pre', { custom_metadata: { owner: 'payments' }, max_versions: '4', delete_version_after: '3h25m19s' }), undefined);
    const m = await k.data('read', 'metadata/pre');
    assert.equal(m['current_version'], 0);
    assert.equal(m['max_versions'], 4);
    assert.equal(m['delete_version_after'], '3h25m19s');
    assert.deepEqual(m['custom_metadata'], { owner: 'payments' });
    const w = await k.data('update', 'data/pre', { data: { a: 1 }, options: { cas: 0 } });
    assert.deepEqual(w['custom_metadata'], { owner: 'payments' });
    assert.equal(await k.engine.exists?.({ ...baseReq(), path: 'data/pre' }), true);
    assert.equal(await k.engine.exists?.({ ...baseReq(), path: 'data/fresh' }), false);
  });

  it('replaces custom_metadata on write and merges it on patch', async () => {
    const k = kit();
    await k.call('update', 'metadata/c', { custom_metadata: { a: '1', b: '2' } });
    await k.call('update', 'metadata/c', { custom_metadata: { c: 3 } });
    assert.deepEqual((await k.data('read', 'metadata/c'))['custom_metadata'], { c: '3' });
    await k.call('patch', 'metadata/c', { custom_metadata: { d: 'x', c: null } });
    assert.deepEqual((await k.data('read', 'metadata/c'))['custom_metadata'], { d: 'x' });
    await assert.rejects(k.call('patch', 'metadata/absent', { max_versions: 1 }), notFound);
  });

  it('validates custom_metadata and other metadata fields', async () => {
    const k = kit();
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    for (const body of [
      { custom_metadata: many },
      { custom_metadata: { '': 'v' } },
      { custom_metadata: { k: '' } },
      { custom_metadata: { k: 'x'.repeat(513) } },
      { custom_metadata: { k: 'bell\u0007' } },
      { custom_metadata: { k: { nested: 1 } } },
      { custom_metadata: 'owner=me' },
      { max_versions: 'ten' },
      { cas_required: 'maybe' },
      { delete_version_after: 'soon' },
    ]) {
      await assert.rejects(k.call('update', 'metadata/v', body), invalid, JSON.stringify(body).slice(0, 60));
    }
    for (const body of [{ max_versions: -1 }, { max_versions: 2 ** 32 }, { delete_version_after: 1e20 }, { delete_version_after: '99999999999h' }]) {
      await assert.rejects(k.call('update', 'metadata/v', body), outOfRange, JSON.stringify(body));
    }
    await assert.rejects(k.call('read', 'metadata/v'), notFound);
  });

  it('warns when a key turns cas_required off while the engine requires it', async () => {
    const k = kit();
    await k.call('update', 'config', { cas_required: true });
    const r = await k.call('update', 'metadata/w', { cas_required: false });
    assert.equal(r?.warnings?.length, 1);
  });

  it("names the fields a metadata or config write ignores, as Vault does (a misspelt max_versions)", async () => {
    const k = kit();
    const r = await k.call('update', 'metadata/typo', { max_version: 3, custom_metadata: { owner: 'payments' } });
    assert.deepEqual(r?.warnings, ['Endpoint ignored these unrecognized parameters: [max_version]']);
    assert.equal((await k.data('read', 'metadata/typo'))['max_versions'], 0, 'the misspelt field changed nothing');
    const only = await k.call('update', 'metadata/typo', { cas_requird: true });
    assert.deepEqual(only?.warnings, ['Endpoint ignored these unrecognized parameters: [cas_requird]']);
    assert.equal(await k.call('update', 'metadata/typo', { max_versions: 3 }), undefined, 'a clean write answers nothing');
    const c = await k.call('update', 'config', { max_versions: 5, delete_versions_after: '1h' });
    assert.deepEqual(c?.warnings, ['Endpoint ignored these unrecognized parameters: [delete_versions_after]']);
    assert.equal(await k.call('update', 'config', { cas_required: false }), undefined);
    await k.call('update', 'config', { cas_required: true });
    const both = await k.call('update', 'metadata/w', { cas_required: false, junk: 1 });
    assert.equal(both?.warnings?.length, 2, 'the ignored field and the cas_required warning');
  });

  it('deletes a key with all its versions and metadata', async () => {
    const k = kit();
    for (let i = 0; i < 3; i++) await k.data('update', 'data/del', { data: { i } });
    await k.data('update', 'data/keep', { data: { i: 0 } });
    assert.equal(await k.call('delete', 'metadata/del'), undefined);
    await assert.rejects(k.call('read', 'data/del'), notFound);
    await assert.rejects(k.call('read', 'metadata/del'), notFound);
    assert.deepEqual(await allKeys(k.storage, 'metadata/'), ['metadata/keep']);
    assert.equal((await allKeys(k.storage, 'versions/')).length, 1);
    // A new write starts again at version 1.
    assert.equal((await k.data('update', 'data/del', { data: { i: 9 } }))['version'], 1);
  });

  it('lists keys and folders sorted, and answers an empty list with ERR_NOT_FOUND', async () => {
    const k = kit();
    await assert.rejects(k.call('list', 'metadata/'), notFound);
    for (const p of ['app', 'app/db', 'app/cache/redis', 'zeta', 'Alpha']) await k.data('update', `data/${p}`, { data: { p } });
    assert.deepEqual(await k.data('list', 'metadata/'), { keys: ['Alpha', 'app', 'app/', 'zeta'] });
    assert.deepEqual(await k.data('list', 'metadata/app/'), { keys: ['cache/', 'db'] });
    assert.deepEqual(await k.data('list', 'metadata/app'), { keys: ['cache/', 'db'] });
    await assert.rejects(k.call('list', 'metadata/nothing/'), notFound);
  });

  it('reads and writes the engine config', async () => {
    const k = kit();
    assert.deepEqual(await k.data('read', 'config'), { cas_required: false, delete_version_after: '0s', max_versions: 0 });
    assert.equal(await k.call('update', 'config', { max_versions: 5, delete_version_after: '3h' }), undefined);
    assert.deepEqual(await k.data('read', 'config'), { cas_required: false, delete_version_after: '3h0m0s', max_versions: 5 });
  });

  it('answers paths outside the KV v2 API with a 404 envelope and a warning', async () => {
    const k = kit();
    const r = await k.call('update', 'hello', { a: 1 });
    assert.equal(r?.status, 404);
    assert.equal(r?.data, null);
    assert.match(r?.warnings?.[0] ?? '', /vault kv put/);
    const root = await k.call('read', 'data');
    assert.equal(root?.status, 404);
    assert.match(root?.warnings?.[0] ?? '', /root of a K\/V v2 mount/);
    await assert.rejects(k.call('delete', 'destroy/x'), (e: unknown) => isArcaError(e, 'ERR_UNSUPPORTED_OPERATION'));
  });

  it('declares data as the field the audit log must HMAC', () => {
    assert.deepEqual(kit().engine.sensitiveFields, ['data']);
  });
});

function baseReq() {
  return {
    id: 'x',
    operation: 'update' as const,
    path: '',
    mountPoint: 'secret/',
    data: {},
    auth: undefined,
    clientAddr: '127.0.0.1',
    can: () => true,
  };
}
