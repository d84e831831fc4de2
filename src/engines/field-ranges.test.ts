/**
 * Every number and duration field of the KV and transit engines, fed values outside its range:
 * each must be a 400 (ERR_FIELD_OUT_OF_RANGE, or ERR_INVALID_REQUEST when it is not a number at
 * all) whose message names the field but not the value, and must change nothing in storage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { SoftwareKeyBackend } from '../keys/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { kit } from './kv/test-kit.ts';
import { b64, call, dataOf, dumpStorage, fakeClock, makeEngine, write } from './transit/testing.ts';
import type { Engine, Operation } from './types.ts';

const OUT_OF_RANGE_INTS: unknown[] = [-1, 1e20, -1e20, '1e20', '99999999999999999999'];
const NOT_INTS: unknown[] = ['NaN', 'abc', 1.5, '', '0x10', true, {}];
const OUT_OF_RANGE_DURATIONS: unknown[] = [1e20, '99999999999h', '106752d', -1, '-1s'];
const NOT_DURATIONS: unknown[] = ['NaN', 'soon', '1h 30m', {}, true];

interface Case {
  op: Operation;
  path: string;
  /** Builds the body around the bad value. */
  body: (v: unknown) => Record<string, unknown>;
  field: string;
  values: unknown[];
}

function fieldCases(op: Operation, path: string, field: string, values: unknown[], wrap?: (v: unknown) => Record<string, unknown>): Case {
  return { op, path, field, values, body: wrap ?? ((v) => ({ [field]: v })) };
}

async function expectRefused(engine: Engine | ((op: Operation, path: string, data: Record<string, unknown>) => Promise<unknown>), c: Case, v: unknown) {
  const run = typeof engine === 'function' ? engine(c.op, c.path, c.body(v)) : call(engine, c.op, c.path, c.body(v));
  await assert.rejects(run, (err: unknown) => {
    assert.ok(isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE') || isArcaError(err, 'ERR_INVALID_REQUEST'), `${c.path} ${c.field}=${String(v)}: ${String(err)}`);
    assert.ok(!err.message.includes(String(v)) || String(v).length < 3, `${c.field}: message quotes the value: ${err.message}`);
    return true;
  }, `${c.path} ${c.field}=${JSON.stringify(v)} was accepted`);
}

describe('field ranges', () => {
  it('kv: every number and duration field refuses out-of-range and malformed values and changes nothing', async () => {
    const k = kit();
    const storage = k.storage as InmemStorage;
    await k.call('update', 'config', { max_versions: 5, delete_version_after: '1h' });
    await k.data('update', 'data/x', { data: { a: 1 } });
    await k.call('update', 'metadata/x', { max_versions: 3 });
    const cases: Case[] = [];
    for (const path of ['config', 'metadata/x', 'metadata/new']) {
      cases.push(fieldCases('update', path, 'max_versions', [...OUT_OF_RANGE_INTS, 2 ** 32, ...NOT_INTS.filter((v) => v !== '')]));
      cases.push(fieldCases('update', path, 'delete_version_after', [...OUT_OF_RANGE_DURATIONS.filter((v) => v !== -1 && v !== '-1s'), -1e20, '-99999999999h', ...NOT_DURATIONS]));
    }
    cases.push(fieldCases('patch', 'metadata/x', 'max_versions', OUT_OF_RANGE_INTS));
    cases.push(fieldCases('update', 'data/x', 'options.cas', [...OUT_OF_RANGE_INTS, ...NOT_INTS], (v) => ({ data: { a: 2 }, options: { cas: v } })));
    cases.push(fieldCases('update', 'data/new', 'options.cas', OUT_OF_RANGE_INTS, (v) => ({ data: { a: 2 }, options: { cas: v } })));
    for (const path of ['delete/x', 'undelete/x', 'destroy/x']) {
      cases.push(fieldCases('update', path, 'versions', [[-1], [1e20], ['abc'], '1,-2', [1, 1.5], 1e20]));
    }
    cases.push(fieldCases('read', 'data/x', 'version', [...OUT_OF_RANGE_INTS, 'abc', 1.5]));
    const before = await dumpStorage(storage);
    for (const c of cases) for (const v of c.values) await expectRefused((op, p, d) => k.call(op, p, d), c, v);
    assert.deepEqual(await dumpStorage(storage), before);
    // Still writable and readable.
    await k.data('update', 'data/x', { data: { a: 3 } });
    assert.deepEqual((await k.data('read', 'data/x')).data, { a: 3 });
  });

  it('transit: every number and duration field refuses out-of-range and malformed values and changes nothing', async () => {
    const storage = new InmemStorage();
    const engine = makeEngine(storage, { software: new SoftwareKeyBackend() }, fakeClock());
    await write(engine, 'keys/k');
    await write(engine, 'keys/k/rotate');
    const pt = b64('hello');
    const cases: Case[] = [
      fieldCases('update', 'keys/new', 'auto_rotate_period', [...OUT_OF_RANGE_DURATIONS, '10m', 59, ...NOT_DURATIONS]),
      fieldCases('update', 'keys/k/config', 'auto_rotate_period', [...OUT_OF_RANGE_DURATIONS, '10m', ...NOT_DURATIONS]),
      fieldCases('update', 'keys/k/config', 'min_decryption_version', [...OUT_OF_RANGE_INTS, 3, ...NOT_INTS.filter((v) => v !== '')]),
      fieldCases('update', 'keys/k/config', 'min_encryption_version', [...OUT_OF_RANGE_INTS, 3, ...NOT_INTS.filter((v) => v !== '')]),
      fieldCases('update', 'encrypt/k', 'key_version', [...OUT_OF_RANGE_INTS, ...NOT_INTS.filter((v) => v !== '')], (v) => ({ plaintext: pt, key_version: v })),
      fieldCases('update', 'encrypt/k', 'partial_failure_response_code', [...OUT_OF_RANGE_INTS, 100, 600], (v) => ({ batch_input: [{ plaintext: pt }], partial_failure_response_code: v })),
      fieldCases('update', 'encrypt/k', 'batch_input.0.key_version', [...OUT_OF_RANGE_INTS, 'abc'], (v) => ({ batch_input: [{ plaintext: pt, key_version: v }] })),
      fieldCases('update', 'datakey/plaintext/k', 'bits', [...OUT_OF_RANGE_INTS, 0, 100, 1024, 'abc']),
      fieldCases('update', 'datakey/wrapped/k', 'key_version', OUT_OF_RANGE_INTS),
      fieldCases('update', 'random', 'bytes', [...OUT_OF_RANGE_INTS, 0, 128 * 1024 + 1, 'NaN', 1.5]),
    ];
    const before = await dumpStorage(storage);
    for (const c of cases) for (const v of c.values) await expectRefused(engine, c, v);
    assert.deepEqual(await dumpStorage(storage), before);
  });

  it('transit: a refused auto_rotate_period of 1e20 leaves the key fully usable', async () => {
    const clock = fakeClock();
    const engine = makeEngine(new InmemStorage(), { software: new SoftwareKeyBackend() }, clock);
    await write(engine, 'keys/k');
    const ct = String(dataOf(await write(engine, 'encrypt/k', { plaintext: b64('s') })).ciphertext);
    await assert.rejects(write(engine, 'keys/k/config', { auto_rotate_period: 1e20 }), (e) => isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE'));
    clock.advance(60_000); // past the key cache: the stored record is read again
    await keyStillUsable(engine, ct);
  });

  it('transit: a key stored with an out-of-range auto_rotate_period (before the check) still loads', async () => {
    const clock = fakeClock();
    const storage = new InmemStorage();
    const engine = makeEngine(storage, { software: new SoftwareKeyBackend() }, clock);
    await write(engine, 'keys/k');
    const ct = String(dataOf(await write(engine, 'encrypt/k', { plaintext: b64('s') })).ciphertext);
    const rec = JSON.parse(new TextDecoder().decode(await storage.get('policy/k')));
    await storage.put('policy/k', new TextEncoder().encode(JSON.stringify({ ...rec, autoRotatePeriod: 1e20 })));
    clock.advance(60_000);
    assert.equal(dataOf(await call(engine, 'read', 'keys/k')).auto_rotate_period, 9_223_372_036);
    await keyStillUsable(engine, ct);
  });

  it('kv: a config stored with an out-of-range delete_version_after (before the check) leaves the mount writable', async () => {
    const k = kit();
    await k.storage.put('config', new TextEncoder().encode(JSON.stringify({ maxVersions: 1e20, casRequired: false, deleteVersionAfter: 1e20 })));
    const w = await k.data('update', 'data/x', { data: { a: 1 } });
    assert.equal(w['version'], 1);
    assert.deepEqual((await k.data('read', 'data/x')).data, { a: 1 });
    const cfg = await k.data('read', 'config');
    assert.equal(cfg['delete_version_after'], '2562047h47m16s');
    await k.call('update', 'config', { delete_version_after: '1h' });
    assert.equal((await k.data('read', 'config'))['delete_version_after'], '1h0m0s');
  });
});

async function keyStillUsable(engine: Engine, ct: string): Promise<void> {
  const again = String(dataOf(await write(engine, 'encrypt/k', { plaintext: b64('t') })).ciphertext);
  assert.equal(Buffer.from(String(dataOf(await write(engine, 'decrypt/k', { ciphertext: ct })).plaintext), 'base64').toString(), 's');
  assert.equal(Buffer.from(String(dataOf(await write(engine, 'decrypt/k', { ciphertext: again })).plaintext), 'base64').toString(), 't');
  assert.equal(dataOf(await call(engine, 'read', 'keys/k')).name, 'k');
  await write(engine, 'keys/k/config', { deletion_allowed: true });
  await call(engine, 'delete', 'keys/k');
  await assert.rejects(call(engine, 'read', 'keys/k'), (e) => isArcaError(e, 'ERR_NOT_FOUND'));
}
