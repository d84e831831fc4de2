import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { type ErrorCode, isArcaError } from '../../errors/index.ts';
import { SoftwareKeyBackend } from '../../keys/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import { KeyStore } from './key-store.ts';
import { versionsLost } from './key-lifecycle.ts';
import { decodePolicy, encodePolicy } from './policy.ts';
import { b64, call, dataOf, makeEngine, write } from './testing.ts';

async function refused(p: Promise<unknown>, code: ErrorCode, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isArcaError(err), `expected an ArcaError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

function setup() {
  const storage = new InmemStorage();
  const engine = makeEngine(storage, { software: new SoftwareKeyBackend() });
  /** The stored key's versions, read back from storage (the HMAC keys the engine must use). */
  const stored = async (name: string) => decodePolicy((await storage.get(`policy/${name}`))!);
  return { storage, engine, stored };
}

const hmacOf = async (engine: ReturnType<typeof setup>['engine'], path: string, data: Record<string, unknown>) => String(dataOf(await write(engine, path, data)).hmac);
const validOf = async (engine: ReturnType<typeof setup>['engine'], path: string, data: Record<string, unknown>) => dataOf(await write(engine, path, data)).valid;

describe('transit hmac and verify', () => {
  it('HMACs with the version\'s own random key, not the encryption key, in Vault\'s format and each algorithm', async () => {
    const { engine, stored } = setup();
    await write(engine, 'keys/k');
    const v1 = (await stored('k')).versions['1']!;
    assert.equal(v1.hmacKey?.length, 32);
    assert.notDeepEqual(v1.hmacKey, v1.ref);
    const input = Buffer.from('4111 1111 1111 1111');
    const expect = (alg: string) => `vault:v1:${createHmac(alg, v1.hmacKey!).update(input).digest('base64')}`;
    assert.equal(await hmacOf(engine, 'hmac/k', { input: b64(input) }), expect('sha256'), 'sha2-256 by default');
    assert.equal(await hmacOf(engine, 'hmac/k/sha2-512', { input: b64(input) }), expect('sha512'), 'algorithm in the URL');
    assert.equal(await hmacOf(engine, 'hmac/k', { input: b64(input), algorithm: 'sha3-384' }), expect('sha3-384'), 'algorithm in the body');
    assert.equal(await hmacOf(engine, 'hmac/k/sha2-224', { input: b64(input), algorithm: 'sha2-512' }), expect('sha224'), 'the URL wins');
    assert.equal(await hmacOf(engine, 'hmac/k', { input: '' }), `vault:v1:${createHmac('sha256', v1.hmacKey!).digest('base64')}`, 'empty input');
  });

  it('verifies its own HMACs and nothing else', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    await write(engine, 'keys/other');
    const input = b64('patient-42');
    const mac = await hmacOf(engine, 'hmac/k', { input });
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: mac }), true);
    assert.equal(await validOf(engine, 'verify/k', { input: b64('patient-43'), hmac: mac }), false, 'other input');
    assert.equal(await validOf(engine, 'verify/other', { input, hmac: mac }), false, 'other key');
    assert.equal(await validOf(engine, 'verify/k/sha2-512', { input, hmac: mac }), false, 'other algorithm');
    const sha512 = await hmacOf(engine, 'hmac/k/sha2-512', { input });
    assert.equal(await validOf(engine, 'verify/k/sha2-512', { input, hmac: sha512 }), true);
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: sha512, hash_algorithm: 'sha2-512' }), true, 'hash_algorithm');
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: sha512, algorithm: 'sha2-512' }), true, 'the deprecated algorithm');
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: 'vault:v1:AAAA' }), false, 'a short HMAC');
  });

  it('follows rotation and the key\'s version limits', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    const input = b64('x');
    const m1 = await hmacOf(engine, 'hmac/k', { input });
    await write(engine, 'keys/k/rotate');
    const m2 = await hmacOf(engine, 'hmac/k', { input });
    assert.match(m2, /^vault:v2:/);
    assert.notEqual(m2.slice(9), m1.slice(9), 'a new HMAC key with the new version');
    assert.equal(await hmacOf(engine, 'hmac/k', { input, key_version: 1 }), m1);
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: m1 }), true, 'old versions still verify');
    await refused(write(engine, 'hmac/k', { input, key_version: 3 }), 'ERR_TRANSIT_VERSION_DISALLOWED', 'key version does not exist; latest key version is 2');
    await refused(write(engine, 'verify/k', { input, hmac: `vault:v3:${m1.slice(9)}` }), 'ERR_TRANSIT_VERSION_DISALLOWED', 'invalid HMAC: version is too new');
    await write(engine, 'keys/k/config', { min_decryption_version: 2, min_encryption_version: 2 });
    await refused(write(engine, 'hmac/k', { input, key_version: 1 }), 'ERR_TRANSIT_VERSION_DISALLOWED', 'cannot generate HMAC: version is too old (disallowed by policy)');
    await refused(write(engine, 'verify/k', { input, hmac: m1 }), 'ERR_TRANSIT_VERSION_DISALLOWED', 'cannot verify HMAC: version is too old (disallowed by policy)');
    assert.equal(await validOf(engine, 'verify/k', { input, hmac: m2 }), true);
  });

  it('answers batches with 200, every item in order with its reference and valid, failed items with their error', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    const r = await write(engine, 'hmac/k', { batch_input: [{ input: b64('a'), reference: 'r1' }, { input: 'not base64!' }, { reference: 'r3' }] });
    assert.equal(r?.status, undefined, '200');
    const items = dataOf(r).batch_results as Record<string, unknown>[];
    assert.deepEqual(Object.keys(items[0]!).sort(), ['hmac', 'reference', 'valid']);
    assert.equal(items[0]!.hmac, await hmacOf(engine, 'hmac/k', { input: b64('a') }));
    assert.deepEqual(items[0]!.reference, 'r1');
    assert.deepEqual(items[1], { valid: false, error: 'unable to decode input as base64: illegal base64 data at input byte 3', reference: '' });
    assert.deepEqual(items[2], { valid: false, error: 'missing input for HMAC', reference: 'r3' });

    const mac = String(items[0]!.hmac);
    const v = await write(engine, 'verify/k', { batch_input: [{ input: b64('a'), hmac: mac, reference: 'ok' }, { input: b64('b'), hmac: mac }, { input: b64('a'), hmac: 'nope' }] });
    assert.equal(v?.status, undefined, '200');
    assert.deepEqual(dataOf(v).batch_results, [
      { valid: true, reference: 'ok' },
      { valid: false, reference: '' },
      { valid: false, error: 'invalid HMAC to verify: no prefix', reference: '' },
    ]);
  });

  it('refuses what it cannot verify with Vault\'s messages, never quoting the value', async () => {
    const { engine } = setup();
    await write(engine, 'keys/k');
    const input = b64('x');
    const cases: [Record<string, unknown>, string][] = [
      [{ input }, "neither a 'signature' nor an 'hmac' were given to verify"],
      [{ input, hmac: 'vault:v1:AAAA', signature: 'vault:v1:AAAA' }, "provide one of 'signature' or 'hmac'"],
      [{ input, signature: 'vault:v1:AAAA' }, 'key type aes256-gcm96 does not support verification'],
      [{ batch_input: [{ input, hmac: 'vault:v1:AAAA' }, { input, signature: 'vault:v1:AAAA' }] }, "elements of batch_input must all provide 'signature' or all provide 'hmac'"],
      [{ batch_input: [{ input, hmac: 'vault:v1:AAAA' }, { input }] }, "some elements of batch_input are missing 'hmac'"],
      [{ batch_input: [{ input }] }, "no batch_input elements have 'signature' or 'hmac'"],
      [{ batch_input: [] }, 'missing batch input to process'],
      [{ input, hmac: 'vault:v1' }, 'invalid HMAC: wrong number of fields'],
      [{ input, hmac: 'vault:vX-secret:AAAA' }, 'invalid HMAC: version number could not be decoded'],
      [{ input, hmac: 'vault:v1:secret*value' }, 'unable to decode verification HMAC as base64: illegal base64 data at input byte 6'],
      [{ input: 'secret value', hmac: 'vault:v1:AAAA' }, 'unable to decode input as base64: illegal base64 data at input byte 6'],
    ];
    for (const [body, message] of cases) {
      await refused(write(engine, 'verify/k', body), 'ERR_INVALID_REQUEST', message);
    }
    await refused(write(engine, 'hmac/k', {}), 'ERR_INVALID_REQUEST', 'missing input for HMAC');
    await refused(write(engine, 'hmac/k/md5', { input }), 'ERR_INVALID_REQUEST', /^unsupported algorithm: use one of sha2-224, /);
    await refused(write(engine, 'hmac/k', { input, key_version: -1 }), 'ERR_FIELD_OUT_OF_RANGE', /key_version/);
    await refused(write(engine, 'hmac/missing', { input }), 'ERR_TRANSIT_KEY_NOT_FOUND', 'encryption key not found');
    await refused(write(engine, 'verify/missing', { input, hmac: 'vault:v1:AAAA' }), 'ERR_TRANSIT_KEY_NOT_FOUND', 'encryption key not found');
    await refused(call(engine, 'read', 'keys/missing'), 'ERR_NOT_FOUND', /^$/); // neither created the key
  });

  it('gives a key stored before HMAC existed an HMAC key for its latest version on first use (Vault\'s upgrade), once', async () => {
    const { storage, engine, stored } = setup();
    await write(engine, 'keys/old');
    await write(engine, 'keys/old/rotate');
    // The record as an earlier Arca wrote it: no HMAC keys.
    const p = await stored('old');
    const bare = Object.fromEntries(Object.entries(p.versions).map(([n, v]) => [n, { id: v.id, createdMs: v.createdMs, ref: v.ref }]));
    await storage.put('policy/old', encodePolicy({ ...p, versions: bare }));
    const fresh = makeEngine(storage, { software: new SoftwareKeyBackend() });
    const input = b64('x');
    const mac = await hmacOf(fresh, 'hmac/old', { input });
    const upgraded = await stored('old');
    assert.equal(upgraded.versions['2']!.hmacKey?.length, 32, 'stored');
    assert.equal(upgraded.versions['1']!.hmacKey, undefined, 'older versions stay without one');
    assert.deepEqual(upgraded.versions['2']!.ref, p.versions['2']!.ref, 'the encryption key is untouched');
    assert.equal(mac, `vault:v2:${createHmac('sha256', upgraded.versions['2']!.hmacKey!).update('x').digest('base64')}`);
    assert.equal(await hmacOf(fresh, 'hmac/old', { input }), mac, 'the same key on the next use');
    await refused(write(fresh, 'hmac/old', { input, key_version: 1 }), 'ERR_TRANSIT_VERSION_DISALLOWED', 'no HMAC key exists for that key version');
    // A snapshot from before the upgrade would drop that HMAC key: a restore must say so.
    const snapshot = new InmemStorage();
    await snapshot.put('policy/old', encodePolicy({ ...p, versions: bare }));
    const now = new KeyStore(storage, () => 0, 0);
    assert.deepEqual(await versionsLost(now, new KeyStore(snapshot, () => 0, 0)), ['key "old": the HMAC key of version 2']);
    await write(fresh, 'keys/old/rotate');
    await write(fresh, 'keys/new');
    assert.deepEqual(await versionsLost(now, new KeyStore(snapshot, () => 0, 0)), ['key "new": every version (the snapshot does not have the key)', 'key "old": version 3 and the HMAC key of version 2']);
    assert.deepEqual(await versionsLost(now, now), [], 'nothing is lost restoring the store as it is');
  });
});
