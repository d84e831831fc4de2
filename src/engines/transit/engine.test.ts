import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import type { ErrorCode } from '../../errors/index.ts';
import { Barrier } from '../../barrier/index.ts';
import { randomKey } from '../../crypto/index.ts';
import { type KeyBackend, SoftwareKeyBackend } from '../../keys/index.ts';
import { InmemStorage, StorageView } from '../../storage/index.ts';
import { parseCiphertext } from './ciphertext.ts';
import { KeyStore } from './key-store.ts';
import { b64, call, dataOf, dumpStorage, fakeClock, findKeyMaterial, makeEngine, racingStorage, write } from './testing.ts';

async function rejectsCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isArcaError(err), `expected an ArcaError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

function setup() {
  const storage = new InmemStorage();
  const clock = fakeClock();
  const engine = makeEngine(storage, { software: new SoftwareKeyBackend() }, clock);
  return { storage, clock, engine };
}

async function enc(engine: ReturnType<typeof setup>['engine'], key: string, text: string, extra: Record<string, unknown> = {}) {
  return String(dataOf(await write(engine, `encrypt/${key}`, { plaintext: b64(text), ...extra })).ciphertext);
}
async function dec(engine: ReturnType<typeof setup>['engine'], key: string, ciphertext: string, extra: Record<string, unknown> = {}) {
  return Buffer.from(String(dataOf(await write(engine, `decrypt/${key}`, { ciphertext, ...extra })).plaintext), 'base64').toString();
}

describe('transit engine (software keys)', () => {
  it('round-trips a plaintext through a Vault-format ciphertext', async () => {
    const { engine } = setup();
    await write(engine, 'keys/orders');
    const r = dataOf(await write(engine, 'encrypt/orders', { plaintext: b64('hello') }));
    assert.equal(r.key_version, 1);
    assert.match(String(r.ciphertext), /^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(parseCiphertext(String(r.ciphertext)).raw.length, 12 + 5 + 16);
    assert.equal(await dec(engine, 'orders', String(r.ciphertext)), 'hello');
  });

  it('names plaintext, random bytes, hash and HMAC input and HMACs as audit-sensitive', () => {
    assert.deepEqual([...(setup().engine.sensitiveFields ?? [])].sort(), ['hmac', 'input', 'plaintext', 'random_bytes']);
  });

  it('encrypts an empty plaintext', async () => {
    const { engine } = setup();
    const ct = await enc(engine, 'k', '');
    assert.equal(parseCiphertext(ct).raw.length, 28);
    assert.equal(await dec(engine, 'k', ct), '');
  });

  it('creates a missing key on encrypt only for callers allowed to create', async () => {
    const { engine } = setup();
    assert.equal(await engine.exists!((await import('./testing.ts')).request('update', 'encrypt/fresh')), false);
    await rejectsCode(write(engine, 'encrypt/fresh', { plaintext: b64('x') }, false), 'ERR_TRANSIT_KEY_NOT_FOUND');
    await enc(engine, 'fresh', 'x');
    const key = dataOf(await call(engine, 'read', 'keys/fresh'));
    assert.equal(key.type, 'aes256-gcm96');
    assert.equal(key.derived, false);
  });

  it('keeps old ciphertexts readable after rotate and encrypts new ones with the new version', async () => {
    const { engine, clock } = setup();
    const v1 = await enc(engine, 'k', 'one');
    clock.advance(1000);
    const rotated = dataOf(await write(engine, 'keys/k/rotate'));
    assert.equal(rotated.latest_version, 2);
    const v2 = await enc(engine, 'k', 'two');
    assert.match(v2, /^vault:v2:/);
    assert.equal(await dec(engine, 'k', v1), 'one');
    assert.equal(await dec(engine, 'k', v2), 'two');
  });

  it('shows versions with creation times and stable distinct version ids, never key material', async () => {
    const { engine, clock, storage } = setup();
    const ct = await enc(engine, 'k', 'x');
    clock.advance(5000);
    await write(engine, 'keys/k/rotate');
    const key = dataOf(await call(engine, 'read', 'keys/k'));
    const keys = key.keys as Record<string, number>;
    assert.deepEqual(Object.keys(keys), ['1', '2']);
    assert.equal(keys['2']! - keys['1']!, 5);
    const ids = key.version_ids as Record<string, string>;
    assert.match(ids['1']!, /^[0-9a-f-]{36}$/);
    assert.notEqual(ids['1'], ids['2']);
    assert.equal(key.latest_version, 2);
    assert.equal(key.min_decryption_version, 1);
    assert.equal(key.exportable, false);
    // The read body holds no key: treat it as a "storage" and search it.
    const readDump = new Map([['read', new TextEncoder().encode(JSON.stringify(key))]]);
    assert.deepEqual(findKeyMaterial(readDump, ct), []);
    // Positive control: the software key *is* in the (here unencrypted) storage, so the search works.
    assert.deepEqual(findKeyMaterial(await dumpStorage(storage), ct), ['policy/k']);
    const again = dataOf(await call(engine, 'read', 'keys/k'));
    assert.deepEqual(again.version_ids, ids);
  });

  it('refuses older ciphertexts once min_decryption_version is raised, and rewrap moves them forward', async () => {
    const { engine } = setup();
    const v1 = await enc(engine, 'k', 'secret');
    await write(engine, 'keys/k/rotate');
    const rewrapped = dataOf(await write(engine, 'rewrap/k', { ciphertext: v1 }));
    assert.equal(rewrapped.key_version, 2);
    assert.match(String(rewrapped.ciphertext), /^vault:v2:/);
    await write(engine, 'keys/k/config', { min_decryption_version: 2 });
    await rejectsCode(write(engine, 'decrypt/k', { ciphertext: v1 }), 'ERR_TRANSIT_VERSION_DISALLOWED');
    await rejectsCode(write(engine, 'rewrap/k', { ciphertext: v1 }), 'ERR_TRANSIT_VERSION_DISALLOWED');
    assert.equal(await dec(engine, 'k', String(rewrapped.ciphertext)), 'secret');
    await rejectsCode(write(engine, 'encrypt/k', { plaintext: b64('x'), key_version: 1 }), 'ERR_TRANSIT_VERSION_DISALLOWED');
  });

  it('rejects a derived-key ciphertext under a different context, and requires a context', async () => {
    const { engine } = setup();
    await write(engine, 'keys/d', { derived: true });
    const ct = await enc(engine, 'd', 'tenant data', { context: b64('tenant-a') });
    assert.equal(await dec(engine, 'd', ct, { context: b64('tenant-a') }), 'tenant data');
    await rejectsCode(write(engine, 'decrypt/d', { ciphertext: ct, context: b64('tenant-b') }), 'ERR_CRYPTO_DECRYPT');
    await rejectsCode(write(engine, 'decrypt/d', { ciphertext: ct }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/d', { plaintext: b64('x') }), 'ERR_INVALID_REQUEST');
    const key = dataOf(await call(engine, 'read', 'keys/d'));
    assert.equal(key.kdf, 'hkdf_sha256');
  });

  it('upserts a derived key when encrypt brings a context', async () => {
    const { engine } = setup();
    await enc(engine, 'up', 'x', { context: b64('c') });
    assert.equal(dataOf(await call(engine, 'read', 'keys/up')).derived, true);
  });

  it('binds associated_data: decrypt without it or with another value fails', async () => {
    const { engine } = setup();
    const ct = await enc(engine, 'k', 'x', { associated_data: b64('row-7') });
    assert.equal(await dec(engine, 'k', ct, { associated_data: b64('row-7') }), 'x');
    await rejectsCode(write(engine, 'decrypt/k', { ciphertext: ct }), 'ERR_CRYPTO_DECRYPT');
    await rejectsCode(write(engine, 'decrypt/k', { ciphertext: ct, associated_data: b64('row-8') }), 'ERR_CRYPTO_DECRYPT');
  });

  it('says what is wrong with a malformed ciphertext, and one fixed thing for a forged one', async () => {
    const { engine } = setup();
    const ct = await enc(engine, 'k', 'x');
    for (const bad of ['nope', 'vault:v1', 'vault:vx:AAAA', 'vault:v1:###', 'vault:v9:' + ct.slice(9), 'vault:v1:AAAA']) {
      await rejectsCode(write(engine, 'decrypt/k', { ciphertext: bad }), 'ERR_TRANSIT_CIPHERTEXT_MALFORMED');
    }
    const raw = parseCiphertext(ct).raw;
    raw[raw.length - 1]! ^= 1;
    await assert.rejects(write(engine, 'decrypt/k', { ciphertext: `vault:v1:${b64(raw)}` }), (err: unknown) => {
      assert.ok(isArcaError(err, 'ERR_CRYPTO_DECRYPT'));
      assert.equal(err.message, 'cipher: message authentication failed');
      return true;
    });
    await rejectsCode(write(engine, 'encrypt/k', { plaintext: 'not base64!' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/k', {}), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'decrypt/missing', { ciphertext: ct }), 'ERR_TRANSIT_KEY_NOT_FOUND');
  });

  it('runs batches item by item, keeping order and references, and answers 400 if any item failed', async () => {
    const { engine } = setup();
    const ok = await write(engine, 'encrypt/b', { batch_input: [{ plaintext: b64('a'), reference: 'r1' }, { plaintext: b64('b') }] });
    assert.equal(ok?.status, undefined);
    const results = dataOf(ok).batch_results as Record<string, unknown>[];
    assert.equal(results.length, 2);
    assert.equal(results[0]!.reference, 'r1');
    assert.equal(results[1]!.reference, '');
    const mixed = await write(engine, 'decrypt/b', {
      batch_input: [{ ciphertext: results[0]!.ciphertext, reference: 'x' }, { ciphertext: 'garbage', reference: 'y' }, { ciphertext: results[1]!.ciphertext }],
    });
    assert.equal(mixed?.status, 400);
    const m = dataOf(mixed).batch_results as Record<string, unknown>[];
    assert.equal(Buffer.from(String(m[0]!.plaintext), 'base64').toString(), 'a');
    assert.equal(m[1]!.error, 'invalid ciphertext: no prefix');
    assert.equal(m[1]!.reference, 'y');
    assert.equal(Buffer.from(String(m[2]!.plaintext), 'base64').toString(), 'b');
    const partial = await write(engine, 'decrypt/b', {
      batch_input: [{ ciphertext: results[0]!.ciphertext }, { ciphertext: 'garbage' }],
      partial_failure_response_code: 207,
    });
    assert.equal(partial?.status, 207);
    const allBad = await write(engine, 'decrypt/b', { batch_input: [{ ciphertext: 'garbage' }], partial_failure_response_code: 207 });
    assert.equal(allBad?.status, 400);
    const rewrapped = await write(engine, 'rewrap/b', { batch_input: [{ ciphertext: results[0]!.ciphertext }] });
    assert.equal((dataOf(rewrapped).batch_results as Record<string, unknown>[])[0]!.key_version, 1);
  });

  it('refuses malformed batches as a whole', async () => {
    const { engine } = setup();
    await write(engine, 'keys/d', { derived: true });
    await rejectsCode(write(engine, 'encrypt/d', { batch_input: [] }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/d', { batch_input: ['x'] }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/d', { batch_input: [{ reference: 'no plaintext' }] }), 'ERR_INVALID_REQUEST');
    await rejectsCode(
      write(engine, 'encrypt/d', { batch_input: [{ plaintext: b64('a'), context: b64('c') }, { plaintext: b64('b') }] }),
      'ERR_INVALID_REQUEST',
    );
  });

  it('issues data keys of 128, 256 and 512 bits that decrypt to the returned plaintext', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    for (const bits of [128, 256, 512]) {
      const d = dataOf(await write(engine, 'datakey/plaintext/k', { bits }));
      assert.equal(Buffer.from(String(d.plaintext), 'base64').length, bits / 8);
      const back = dataOf(await write(engine, 'decrypt/k', { ciphertext: d.ciphertext }));
      assert.equal(back.plaintext, d.plaintext);
    }
    const wrapped = dataOf(await write(engine, 'datakey/wrapped/k', {}));
    assert.equal(wrapped.plaintext, undefined);
    assert.match(String(wrapped.ciphertext), /^vault:v1:/);
    await rejectsCode(write(engine, 'datakey/plaintext/k', { bits: 100 }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'datakey/other/k', {}), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'datakey/plaintext/none', {}), 'ERR_TRANSIT_KEY_NOT_FOUND');
  });

  it('returns random bytes in the asked size and format', async () => {
    const { engine } = setup();
    assert.equal(Buffer.from(String(dataOf(await write(engine, 'random', {})).random_bytes), 'base64').length, 32);
    assert.match(String(dataOf(await write(engine, 'random/16', { format: 'hex' })).random_bytes), /^[0-9a-f]{32}$/);
    assert.match(String(dataOf(await write(engine, 'random/platform/8', {})).random_bytes), /^[A-Za-z0-9+/]{11}=$/);
    await rejectsCode(write(engine, 'random/0', {}), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'random', { bytes: 1e20 }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'random/abc', {}), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'random', { format: 'z85' }), 'ERR_INVALID_REQUEST');
  });

  it('hashes input with the asked algorithm and format, as Vault does', async () => {
    const { engine } = setup();
    const input = b64('abc');
    assert.equal(dataOf(await write(engine, 'hash', { input })).sum, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      dataOf(await write(engine, 'hash/sha3-256', { input })).sum,
      '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    );
    assert.equal(dataOf(await write(engine, 'hash', { input, algorithm: 'sha2-512', format: 'base64' })).sum, Buffer.from('ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'hex').toString('base64'));
    await rejectsCode(write(engine, 'hash/md5', { input }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'hash', {}), 'ERR_INVALID_REQUEST');
  });

  it('validates key settings and refuses export', async () => {
    const { engine } = setup();
    await rejectsCode(write(engine, 'keys/k', { type: 'rsa-2048' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { type: 'bogus' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { type: 'hsm-aes256-gcm96' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { convergent_encryption: true }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { derived: true, convergent_encryption: true }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { exportable: true }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k', { auto_rotate_period: '10m' }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'keys/k', { auto_rotate_period: 1e20 }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'keys/bad name', {}), 'ERR_INVALID_REQUEST');
    const created = await write(engine, 'keys/k', { auto_rotate_period: '24h' });
    assert.equal(dataOf(created).auto_rotate_period, 86400);
    assert.equal(created?.warnings, undefined);
    assert.deepEqual((await write(engine, 'keys/k', {}))?.warnings, ['key k already existed']);
    await rejectsCode(write(engine, 'keys/k/config', { exportable: true }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'keys/k/config', { min_decryption_version: 2 }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'keys/k/config', { min_encryption_version: -1 }), 'ERR_FIELD_OUT_OF_RANGE');
    await rejectsCode(write(engine, 'keys/none/config', { deletion_allowed: true }), 'ERR_TRANSIT_KEY_NOT_FOUND');
    await rejectsCode(write(engine, 'keys/none/rotate', {}), 'ERR_TRANSIT_KEY_NOT_FOUND');
    await write(engine, 'keys/k/rotate');
    await write(engine, 'keys/k/rotate');
    await rejectsCode(write(engine, 'keys/k/config', { min_decryption_version: 3, min_encryption_version: 2 }), 'ERR_INVALID_REQUEST');
    const tuned = dataOf(await write(engine, 'keys/k/config', { min_decryption_version: '2', min_encryption_version: 3, auto_rotate_period: 0 }));
    assert.equal(tuned.min_decryption_version, 2);
    assert.equal(tuned.min_encryption_version, 3);
    assert.equal(tuned.auto_rotate_period, 0);
  });

  it("names fields a key write ignores, as Vault does (deletion_allowed belongs to keys/<name>/config)", async () => {
    const { engine } = setup();
    const created = await write(engine, 'keys/k', { type: 'aes256-gcm96', deletion_allowed: true });
    assert.deepEqual(created?.warnings, ['Endpoint ignored these unrecognized parameters: [deletion_allowed]']);
    await rejectsCode(call(engine, 'delete', 'keys/k'), 'ERR_TRANSIT_DELETION_DISALLOWED');
    const again = await write(engine, 'keys/k', { key_size: 256 });
    assert.deepEqual(again?.warnings, ['Endpoint ignored these unrecognized parameters: [key_size]', 'key k already existed']);
    const tuned = await write(engine, 'keys/k/config', { deletion_alowed: true });
    assert.deepEqual(tuned?.warnings, ['Endpoint ignored these unrecognized parameters: [deletion_alowed]']);
    await rejectsCode(call(engine, 'delete', 'keys/k'), 'ERR_TRANSIT_DELETION_DISALLOWED');
    assert.equal((await write(engine, 'keys/k/config', { deletion_allowed: true }))?.warnings, undefined);
  });

  it('deletes a key only when deletion_allowed is set', async () => {
    const { engine, storage } = setup();
    await write(engine, 'keys/k');
    await rejectsCode(call(engine, 'delete', 'keys/k'), 'ERR_TRANSIT_DELETION_DISALLOWED');
    await write(engine, 'keys/k/config', { deletion_allowed: true });
    assert.equal(await call(engine, 'delete', 'keys/k'), undefined);
    await rejectsCode(call(engine, 'read', 'keys/k'), 'ERR_NOT_FOUND');
    await rejectsCode(call(engine, 'delete', 'keys/k'), 'ERR_TRANSIT_KEY_NOT_FOUND');
    assert.equal((await dumpStorage(storage)).size, 0);
  });

  it('lists key names, and answers not found for an empty list', async () => {
    const { engine } = setup();
    await rejectsCode(call(engine, 'list', 'keys/'), 'ERR_NOT_FOUND');
    await write(engine, 'keys/b');
    await write(engine, 'keys/a');
    assert.deepEqual(dataOf(await call(engine, 'list', 'keys/')).keys, ['a', 'b']);
  });

  it('rotates keys on schedule once auto_rotate_period has elapsed', async () => {
    const { engine, clock } = setup();
    await write(engine, 'keys/auto', { auto_rotate_period: '1h' });
    await write(engine, 'keys/manual');
    clock.advance(3599_000);
    await engine.tick!();
    assert.equal(dataOf(await call(engine, 'read', 'keys/auto')).latest_version, 1);
    clock.advance(1000);
    await engine.tick!();
    assert.equal(dataOf(await call(engine, 'read', 'keys/auto')).latest_version, 2);
    assert.equal(dataOf(await call(engine, 'read', 'keys/manual')).latest_version, 1);
    await engine.tick!();
    assert.equal(dataOf(await call(engine, 'read', 'keys/auto')).latest_version, 2);
  });

  it('serialises concurrent rotations so no version number is lost', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    await Promise.all(Array.from({ length: 5 }, () => write(engine, 'keys/k/rotate')));
    const key = dataOf(await call(engine, 'read', 'keys/k'));
    assert.equal(key.latest_version, 6);
    assert.equal(new Set(Object.values(key.version_ids as Record<string, string>)).size, 6);
  });

  it('creates no key when the encrypt that would upsert it is refused (the bad bytes found by test/integration/bad-input.test.ts)', async () => {
    const { engine, storage } = setup();
    const before = await dumpStorage(storage);
    await rejectsCode(write(engine, 'encrypt/nokey', { plaintext: 'OMA$W g)%q' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/nokey', { plaintext: b64('x'), context: '!!' }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/nokey', { plaintext: b64('x'), nonce: b64('n') }), 'ERR_INVALID_REQUEST');
    await rejectsCode(write(engine, 'encrypt/nokey', { plaintext: b64('x'), key_version: 2 }), 'ERR_TRANSIT_VERSION_DISALLOWED');
    await rejectsCode(write(engine, 'encrypt/nokey', { batch_input: [{ plaintext: '%' }, { plaintext: b64('x'), key_version: 3 }] }), 'ERR_INVALID_REQUEST');
    assert.deepEqual(await dumpStorage(storage), before);
    await rejectsCode(call(engine, 'read', 'keys/nokey'), 'ERR_NOT_FOUND');
    // One good item is enough for the key to be made (Vault's batch: the others fail on their own).
    const r = await write(engine, 'encrypt/nokey', { batch_input: [{ plaintext: '%' }, { plaintext: b64('x') }] });
    assert.equal(r?.status, 400);
    assert.equal(dataOf(await call(engine, 'read', 'keys/nokey')).latest_version, 1);
  });

  it('creates a key once when concurrent encrypts upsert it', async () => {
    const { engine } = setup();
    const cts = await Promise.all(Array.from({ length: 8 }, (_, i) => enc(engine, 'race', `m${i}`)));
    const key = dataOf(await call(engine, 'read', 'keys/race'));
    assert.equal(key.latest_version, 1);
    for (const [i, ct] of cts.entries()) assert.equal(await dec(engine, 'race', ct), `m${i}`);
  });

  it('sees a rotation made by another replica when a ciphertext names the new version', async () => {
    const { engine, storage, clock } = setup();
    const other = makeEngine(storage, { software: new SoftwareKeyBackend() }, clock);
    await enc(engine, 'k', 'warm the cache');
    await write(other, 'keys/k/rotate');
    const v2 = await enc(other, 'k', 'new');
    assert.equal(await dec(engine, 'k', v2), 'new');
  });
});

describe('transit key writes across engine instances', () => {
  it('writes a key only over the stored policy it was made from: a second rotation from the same version is a conflict, not a lost version', async () => {
    const storage = new InmemStorage();
    const engine = makeEngine(storage, { software: new SoftwareKeyBackend() });
    await write(engine, 'keys/kek');
    // Two instances (as while a reload swaps engines), both about to add version 2.
    const a = new KeyStore(storage, () => 0, 0);
    const b = new KeyStore(storage, () => 0, 0);
    const fromA = (await a.get('kek', true))!;
    const fromB = (await b.get('kek', true))!;
    const v2 = (tag: string) => ({ id: `00000000-0000-4000-8000-00000000000${tag}`, createdMs: 1, ref: new Uint8Array(32) });
    await a.put({ ...fromA, latestVersion: 2, versions: { ...fromA.versions, '2': v2('a') } }, fromA);
    await rejectsCode(b.put({ ...fromB, latestVersion: 2, versions: { ...fromB.versions, '2': v2('b') } }, fromB), 'ERR_STORAGE_CONFLICT');
    await rejectsCode(b.delete('kek', fromB), 'ERR_STORAGE_CONFLICT');
    await rejectsCode(b.put({ ...fromB, name: 'kek' }, undefined), 'ERR_STORAGE_CONFLICT');
    const stored = (await new KeyStore(storage, () => 0, 0).get('kek', true))!;
    assert.equal(stored.versions['2']!.id, v2('a').id, 'the first rotation stands');
    // Read again, b writes fine.
    const fresh = (await b.get('kek', true))!;
    await b.put({ ...fresh, deletionAllowed: true }, fresh);
  });

  it('over the barrier, as mounted: of two instances rotating from the same version one wins, and the loser gets 409 and destroys its new version', async () => {
    const raw = new InmemStorage();
    const barrier = new Barrier(raw);
    const rootKey = randomKey();
    await barrier.initialize(rootKey);
    await barrier.unseal(rootKey);
    const view = new StorageView(barrier, 'logical/transit-uuid/');
    const soft = new SoftwareKeyBackend();
    let destroyed = 0;
    const counting: KeyBackend = {
      type: soft.type,
      createVersion: (id) => soft.createVersion(id),
      encrypt: (ref, pt, aad) => soft.encrypt(ref, pt, aad),
      decrypt: (ref, ct, aad) => soft.decrypt(ref, ct, aad),
      destroyVersion: async (ref) => {
        destroyed++;
        await soft.destroyVersion(ref);
      },
      close: async () => {},
    };
    const first = makeEngine(view, { software: counting });
    await write(first, 'keys/kek');
    // The second instance's storage: as its rotation is about to land, the first instance rotates.
    const racing = racingStorage(view, 'policy/kek', () => write(first, 'keys/kek/rotate'));
    const second = makeEngine(racing, { software: counting });
    await rejectsCode(write(second, 'keys/kek/rotate'), 'ERR_STORAGE_CONFLICT');
    assert.equal(destroyed, 1, 'the losing version is destroyed');
    const key = dataOf(await call(first, 'read', 'keys/kek'));
    assert.equal(key.latest_version, 2);
    // The one version 2 is the winner's: what it encrypts, the key (read anew) decrypts.
    const ct = await enc(first, 'kek', 'dek');
    assert.match(ct, /^vault:v2:/);
    assert.equal(await dec(makeEngine(view, { software: counting }), 'kek', ct), 'dek');
    await write(second, 'keys/kek/rotate');
    assert.equal(dataOf(await call(makeEngine(view, { software: counting }), 'read', 'keys/kek')).latest_version, 3, 'a retry reads the key anew and rotates');
  });

  it('a key created by another instance between the existence check and the write is the key (the upsert answers as if it had existed)', async () => {
    const shared = new InmemStorage();
    const other = makeEngine(shared, { software: new SoftwareKeyBackend() });
    // This instance's storage: just before its first policy write lands, the other instance creates the key.
    const racing = racingStorage(shared, 'policy/up', () => write(other, 'keys/up'));
    const engine = makeEngine(racing, { software: new SoftwareKeyBackend() });
    const ct = await enc(engine, 'up', 'x');
    assert.ok(racing.raced());
    const key = dataOf(await call(other, 'read', 'keys/up'));
    assert.equal(key.latest_version, 1);
    assert.equal(parseCiphertext(ct).version, 1);
    assert.equal(await dec(other, 'up', ct), 'x', 'encrypted under the key the other instance made');
  });
});
