import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { allKeys, kit } from './test-kit.ts';

async function rejectsWith(p: Promise<unknown>, code: string, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isArcaError(err), `expected an ArcaError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  });
}

describe('kv data', () => {
  it('writes versions 1..n and reads the current or a given version', async () => {
    const k = kit();
    const w1 = await k.data('create', 'data/app/db', { data: { password: 'one' }, options: {} });
    assert.deepEqual(w1, { created_time: '2026-11-22T12:00:00.000123Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 1 });
    assert.deepEqual(Object.keys(w1), ['created_time', 'custom_metadata', 'deletion_time', 'destroyed', 'version']);
    k.clock.ms += 1000;
    await k.data('update', 'data/app/db', { data: { password: 'two', nested: { n: 1 } } });
    const cur = await k.data('read', 'data/app/db');
    assert.deepEqual(cur['data'], { password: 'two', nested: { n: 1 } });
    assert.deepEqual(cur['metadata'], { created_time: '2026-11-22T12:00:01.000123Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 2 });
    const v1 = await k.data('read', 'data/app/db', { version: '1' });
    assert.deepEqual(v1['data'], { password: 'one' });
    const v0 = await k.data('read', 'data/app/db', { version: 0 });
    assert.equal((v0['metadata'] as { version: number }).version, 2);
  });

  it('answers a missing key or unknown version with ERR_NOT_FOUND and no message', async () => {
    const k = kit();
    await rejectsWith(k.call('read', 'data/nope'), 'ERR_NOT_FOUND', '');
    await k.data('update', 'data/a', { data: { x: 1 } });
    await rejectsWith(k.call('read', 'data/a', { version: 2 }), 'ERR_NOT_FOUND', '');
  });

  it('enforces check-and-set: 0 for a new key, the current version after', async () => {
    const k = kit();
    await k.data('create', 'data/c', { data: { a: 1 }, options: { cas: 0 } });
    await rejectsWith(k.call('update', 'data/c', { data: { a: 2 }, options: { cas: 0 } }), 'ERR_INVALID_REQUEST', 'check-and-set parameter did not match the current version');
    const w = await k.data('update', 'data/c', { data: { a: 2 }, options: { cas: '1' } });
    assert.equal(w['version'], 2);
    await rejectsWith(k.call('update', 'data/c', { data: { a: 3 }, options: { cas: 'x' } }), 'ERR_INVALID_REQUEST', 'error parsing check-and-set parameter');
  });

  it('requires cas when the key or the engine config says so', async () => {
    const k = kit();
    await k.call('update', 'metadata/strict', { cas_required: true });
    await rejectsWith(k.call('update', 'data/strict', { data: { a: 1 } }), 'ERR_INVALID_REQUEST', 'check-and-set parameter required for this call');
    await k.data('update', 'data/strict', { data: { a: 1 }, options: { cas: 0 } });
    await k.call('update', 'config', { cas_required: true });
    await rejectsWith(k.call('update', 'data/other', { data: { a: 1 } }), 'ERR_INVALID_REQUEST', 'check-and-set parameter required for this call');
  });

  it('soft-deletes the latest version; reading it is a 404 that carries the metadata', async () => {
    const k = kit();
    await k.data('update', 'data/s', { data: { a: 1 } });
    await k.data('update', 'data/s', { data: { a: 2 } });
    k.clock.ms += 5000;
    assert.equal(await k.call('delete', 'data/s'), undefined);
    const r = await k.call('read', 'data/s');
    assert.equal(r?.status, 404);
    assert.deepEqual(r?.data, {
      data: null,
      metadata: { created_time: '2026-11-22T12:00:00.000123Z', custom_metadata: null, deletion_time: '2026-11-22T12:00:05.000123Z', destroyed: false, version: 2 },
    });
    // Older versions stay readable; deleting again or deleting a missing key is a no-op.
    assert.deepEqual((await k.data('read', 'data/s', { version: 1 }))['data'], { a: 1 });
    assert.equal(await k.call('delete', 'data/s'), undefined);
    assert.equal(await k.call('delete', 'data/missing'), undefined);
  });

  it('deletes and undeletes chosen versions, accepting "1,2" and string versions', async () => {
    const k = kit();
    for (let i = 1; i <= 3; i++) await k.data('update', 'data/u', { data: { i } });
    await k.call('update', 'delete/u', { versions: '1,2' });
    assert.equal((await k.call('read', 'data/u', { version: 1 }))?.status, 404);
    assert.equal((await k.call('read', 'data/u', { version: 2 }))?.status, 404);
    await k.call('update', 'undelete/u', { versions: ['2'] });
    assert.deepEqual((await k.data('read', 'data/u', { version: 2 }))['data'], { i: 2 });
    assert.equal((await k.call('read', 'data/u', { version: 1 }))?.status, 404);
    await rejectsWith(k.call('update', 'delete/u', { versions: [] }), 'ERR_INVALID_REQUEST', 'No version number provided');
    await rejectsWith(k.call('update', 'undelete/u', {}), 'ERR_INVALID_REQUEST', 'No version number provided');
    assert.equal(await k.call('update', 'delete/missing', { versions: [1] }), undefined);
  });

  it('destroys versions for good: the data record is removed and undelete cannot bring it back', async () => {
    const k = kit();
    await k.data('update', 'data/d', { data: { a: 1 } });
    await k.data('update', 'data/d', { data: { a: 2 } });
    assert.equal((await allKeys(k.storage, 'versions/')).length, 2);
    await k.call('update', 'destroy/d', { versions: [1] });
    assert.equal((await allKeys(k.storage, 'versions/')).length, 1);
    await k.call('update', 'undelete/d', { versions: [1] });
    const r = await k.call('read', 'data/d', { version: 1 });
    assert.equal(r?.status, 404);
    assert.equal((r?.data?.['metadata'] as { destroyed: boolean } | undefined)?.destroyed, true);
    await rejectsWith(k.call('update', 'destroy/d', { versions: [] }), 'ERR_INVALID_REQUEST', 'no version number provided');
  });

  it('keeps only max_versions versions and deletes the trimmed records', async () => {
    const k = kit();
    await k.call('update', 'metadata/m', { max_versions: 3 });
    for (let i = 1; i <= 5; i++) await k.data('update', 'data/m', { data: { i } });
    const meta = await k.data('read', 'metadata/m');
    assert.equal(meta['current_version'], 5);
    assert.equal(meta['oldest_version'], 3);
    assert.deepEqual(Object.keys(meta['versions'] as object), ['3', '4', '5']);
    assert.equal((await allKeys(k.storage, 'versions/')).length, 3);
    await assert.rejects(k.call('read', 'data/m', { version: 2 }), (e: unknown) => isArcaError(e, 'ERR_NOT_FOUND'));
  });

  it('defaults to 10 versions when neither key nor engine sets max_versions', async () => {
    const k = kit();
    for (let i = 1; i <= 12; i++) await k.data('update', 'data/ten', { data: { i } });
    const meta = await k.data('read', 'metadata/ten');
    assert.equal(meta['oldest_version'], 3);
    assert.equal(Object.keys(meta['versions'] as object).length, 10);
  });

  it('patches the current version with a JSON merge patch as a new version', async () => {
    const k = kit();
    await k.data('update', 'data/p', { data: { a: 1, b: { c: 2, d: 3 }, e: 'x' } });
    const w = await k.data('patch', 'data/p', { data: { a: 5, b: { d: null }, e: null, f: [1] } });
    assert.equal(w['version'], 2);
    assert.deepEqual((await k.data('read', 'data/p'))['data'], { a: 5, b: { c: 2 }, f: [1] });
    await assert.rejects(k.call('patch', 'data/p', { data: { a: 1 }, options: { cas: 1 } }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
  });

  it('answers a patch of a missing key with a bare 404 and of a deleted version with its metadata', async () => {
    const k = kit();
    assert.deepEqual(await k.call('patch', 'data/none', { data: { a: 1 } }), { status: 404 });
    await k.data('update', 'data/gone', { data: { a: 1 } });
    await k.call('delete', 'data/gone');
    const r = await k.call('patch', 'data/gone', { data: { a: 2 } });
    assert.equal(r?.status, 404);
    assert.equal(r?.data?.['version'], 1);
    assert.notEqual(r?.data?.['deletion_time'], '');
    // Nothing was written by the refused patches.
    assert.equal((await k.data('read', 'metadata/gone'))['current_version'], 1);
  });

  it('hides versions once delete_version_after has passed, by the injected clock', async () => {
    const k = kit();
    await k.call('update', 'metadata/t', { delete_version_after: '1h' });
    const w = await k.data('update', 'data/t', { data: { a: 1 } });
    assert.equal(w['deletion_time'], '2026-11-22T13:00:00.000123Z');
    k.clock.ms += 3599_000;
    assert.deepEqual((await k.data('read', 'data/t'))['data'], { a: 1 });
    k.clock.ms += 1000;
    assert.equal((await k.call('read', 'data/t'))?.status, 404);
    // The engine value applies too, the smaller one wins; a negative engine value disables it.
    await k.call('update', 'config', { delete_version_after: '30m' });
    const w2 = await k.data('update', 'data/t', { data: { a: 2 } });
    assert.equal(w2['deletion_time'], '2026-11-22T13:30:00.000123Z');
    await k.call('update', 'config', { delete_version_after: -1 });
    const w3 = await k.data('update', 'data/t', { data: { a: 3 } });
    assert.equal(w3['deletion_time'], '');
  });

  it('rejects bad input with ERR_INVALID_REQUEST', async () => {
    const k = kit();
    await rejectsWith(k.call('update', 'data/x', {}), 'ERR_INVALID_REQUEST', 'no data provided');
    for (const bad of ['str', [1, 2], 5, true]) await rejectsWith(k.call('update', 'data/x', { data: bad }), 'ERR_INVALID_REQUEST');
    await rejectsWith(k.call('update', 'data/x', { data: {}, options: 'cas' }), 'ERR_INVALID_REQUEST');
    await k.data('update', 'data/x', { data: { a: 1 } });
    for (const v of ['abc', 1.5, true]) await rejectsWith(k.call('read', 'data/x', { version: v }), 'ERR_INVALID_REQUEST');
    for (const v of ['-1', 1e20, '99999999999999999999']) await rejectsWith(k.call('read', 'data/x', { version: v }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsWith(k.call('update', 'delete/x', { versions: 'a,b' }), 'ERR_INVALID_REQUEST');
    for (const p of ['data/a//b', 'data/../x', 'data/a/./b', 'data/dir/']) await rejectsWith(k.call('update', p, { data: { a: 1 } }), 'ERR_INVALID_REQUEST');
  });
});
