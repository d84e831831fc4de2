import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSoftHsmToken, type SoftHsmToken } from '../../../test/harness/index.ts';
import { type ErrorCode, isArcaError } from '../../errors/index.ts';
import { HsmKeyBackend, Pkcs11Hsm, SoftwareKeyBackend, TRANSIT_KEY_LABEL_PREFIX } from '../../keys/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import type { Engine } from '../types.ts';
import { parseCiphertext } from './ciphertext.ts';
import { b64, call, dataOf, dumpStorage, fakeClock, findKeyMaterial, makeEngine, write } from './testing.ts';

async function rejectsCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isArcaError(err), `expected an ArcaError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

async function enc(engine: Engine, key: string, text: string, extra: Record<string, unknown> = {}) {
  return String(dataOf(await write(engine, `encrypt/${key}`, { plaintext: b64(text), ...extra })).ciphertext);
}
async function dec(engine: Engine, key: string, ciphertext: string, extra: Record<string, unknown> = {}) {
  return Buffer.from(String(dataOf(await write(engine, `decrypt/${key}`, { ciphertext, ...extra })).plaintext), 'base64').toString();
}

describe('transit engine (HSM keys on SoftHSM2)', () => {
  let token: SoftHsmToken;
  let hsm: HsmKeyBackend;
  const open = () => HsmKeyBackend.open({ module: token.module, tokenLabel: token.label, pin: token.pin });

  before(async () => {
    token = await createSoftHsmToken('arca-transit');
    // SoftHSM reads its config when the module is initialised.
    process.env['SOFTHSM2_CONF'] = token.conf;
    hsm = await open();
  });
  after(async () => {
    await hsm.close();
    await token.remove();
  });

  const setup = () => {
    const storage = new InmemStorage();
    const clock = fakeClock();
    return { storage, clock, engine: makeEngine(storage, { software: new SoftwareKeyBackend(), hsm }, clock) };
  };

  it('round-trips through a non-extractable HSM key in Vault ciphertext form', async () => {
    const { engine } = setup();
    const created = dataOf(await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' }));
    assert.equal(created.type, 'hsm-aes256-gcm96');
    const ct = await enc(engine, 'h', 'kek payload');
    assert.match(ct, /^vault:v1:/);
    assert.equal(parseCiphertext(ct).raw.length, 12 + 11 + 16);
    assert.equal(await dec(engine, 'h', ct), 'kek payload');
  });

  it('refuses hmac and verify on an HSM key, and stores no HMAC key beside its versions', async () => {
    const { engine, storage } = setup();
    await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' });
    await write(engine, 'keys/h/rotate');
    const before = await dumpStorage(storage);
    for (const [path, body] of [['hmac/h', { input: b64('x') }], ['verify/h', { input: b64('x'), hmac: 'vault:v1:AAAA' }]] as const) {
      await assert.rejects(write(engine, path, body), (err: unknown) => isArcaError(err, 'ERR_INVALID_REQUEST') && /does not support HMAC/.test(err.message));
    }
    assert.deepEqual(await dumpStorage(storage), before, 'nothing written');
    assert.doesNotMatch(Buffer.from(before.get('policy/h')!).toString(), /hmacKey/);
  });

  it('upserts an HSM key on encrypt when the type is given', async () => {
    const { engine } = setup();
    await enc(engine, 'up', 'x', { type: 'hsm-aes256-gcm96' });
    assert.equal(dataOf(await call(engine, 'read', 'keys/up')).type, 'hsm-aes256-gcm96');
  });

  it('rotates, keeps old versions readable, enforces min_decryption_version and rewraps', async () => {
    const { engine } = setup();
    await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' });
    const v1 = await enc(engine, 'h', 'one');
    await write(engine, 'keys/h/rotate');
    const v2 = await enc(engine, 'h', 'two');
    assert.match(v2, /^vault:v2:/);
    assert.equal(await dec(engine, 'h', v1), 'one');
    const moved = String(dataOf(await write(engine, 'rewrap/h', { ciphertext: v1 })).ciphertext);
    assert.match(moved, /^vault:v2:/);
    await write(engine, 'keys/h/config', { min_decryption_version: 2 });
    await rejectsCode(write(engine, 'decrypt/h', { ciphertext: v1 }), 'ERR_TRANSIT_VERSION_DISALLOWED');
    assert.equal(await dec(engine, 'h', moved), 'one');
    assert.equal(await dec(engine, 'h', v2), 'two');
  });

  it('binds a derived key context into the AAD, so another context fails', async () => {
    const { engine } = setup();
    const key = dataOf(await write(engine, 'keys/hd', { type: 'hsm-aes256-gcm96', derived: true }));
    assert.equal(key.kdf, 'context_aad');
    const ct = await enc(engine, 'hd', 'tenant', { context: b64('tenant-a'), associated_data: b64('row') });
    assert.equal(await dec(engine, 'hd', ct, { context: b64('tenant-a'), associated_data: b64('row') }), 'tenant');
    await rejectsCode(write(engine, 'decrypt/hd', { ciphertext: ct, context: b64('tenant-b'), associated_data: b64('row') }), 'ERR_CRYPTO_DECRYPT');
    await rejectsCode(write(engine, 'decrypt/hd', { ciphertext: ct, context: b64('tenant-a') }), 'ERR_CRYPTO_DECRYPT');
    // Moving bytes between context and associated data must not verify either.
    await rejectsCode(write(engine, 'decrypt/hd', { ciphertext: ct, context: b64('tenant-ar'), associated_data: b64('ow') }), 'ERR_CRYPTO_DECRYPT');
    await rejectsCode(write(engine, 'decrypt/hd', { ciphertext: ct }), 'ERR_INVALID_REQUEST');
  });

  it('handles batches and data keys with HSM keys', async () => {
    const { engine } = setup();
    await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' });
    const r = dataOf(await write(engine, 'encrypt/h', { batch_input: [{ plaintext: b64('a') }, { plaintext: b64('b'), reference: 'two' }] }));
    const items = r.batch_results as { ciphertext: string; reference: string }[];
    assert.equal(items[1]!.reference, 'two');
    const d = dataOf(await write(engine, 'decrypt/h', { batch_input: items.map((i) => ({ ciphertext: i.ciphertext })) }));
    assert.deepEqual((d.batch_results as { plaintext: string }[]).map((i) => Buffer.from(i.plaintext, 'base64').toString()), ['a', 'b']);
    const dk = dataOf(await write(engine, 'datakey/plaintext/h', { bits: 256 }));
    assert.equal(dataOf(await write(engine, 'decrypt/h', { ciphertext: dk.ciphertext })).plaintext, dk.plaintext);
  });

  it('stores no HSM key material: only the CKA_ID reference (a software key in the same storage is found)', async () => {
    const { engine, storage } = setup();
    await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' });
    await write(engine, 'keys/h/rotate');
    const hsmCt = await enc(engine, 'h', 'hsm secret');
    const swCt = await enc(engine, 's', 'software secret');
    const dump = await dumpStorage(storage);
    assert.deepEqual([...dump.keys()].sort(), ['policy/h', 'policy/s']);
    assert.deepEqual(findKeyMaterial(dump, hsmCt), []);
    // Positive control: the same search finds the software key (this storage is not a barrier).
    assert.deepEqual(findKeyMaterial(dump, swCt), ['policy/s']);
    const rec = JSON.parse(Buffer.from(dump.get('policy/h')!).toString()) as { versions: Record<string, { ref: string }> };
    for (const v of Object.values(rec.versions)) assert.equal(Buffer.from(v.ref, 'base64').length, 16);
  });

  it('keeps working after the HSM module is closed and reopened (server restart)', async () => {
    const { engine, storage, clock } = setup();
    await write(engine, 'keys/h', { type: 'hsm-aes256-gcm96' });
    const v1 = await enc(engine, 'h', 'before restart');
    await write(engine, 'keys/h/rotate');
    const v2 = await enc(engine, 'h', 'also before');
    await hsm.close();
    hsm = await open();
    const restarted = makeEngine(storage, { software: new SoftwareKeyBackend(), hsm }, clock);
    assert.equal(await dec(restarted, 'h', v1), 'before restart');
    assert.equal(await dec(restarted, 'h', v2), 'also before');
    assert.equal(await dec(restarted, 'h', await enc(restarted, 'h', 'after')), 'after');
  });

  it('destroys the HSM objects of every version when a key is deleted', async () => {
    const { engine } = setup();
    await write(engine, 'keys/gone', { type: 'hsm-aes256-gcm96' });
    await write(engine, 'keys/gone/rotate');
    const ids = Object.values(dataOf(await call(engine, 'read', 'keys/gone')).version_ids as Record<string, string>);
    const probe = await Pkcs11Hsm.open({ module: token.module, tokenLabel: token.label, pin: token.pin });
    try {
      for (const id of ids) assert.ok(await probe.findKey(`${TRANSIT_KEY_LABEL_PREFIX}${id}`), `HSM object for version ${id} exists`);
      await write(engine, 'keys/gone/config', { deletion_allowed: true });
      await call(engine, 'delete', 'keys/gone');
      for (const id of ids) assert.equal(await probe.findKey(`${TRANSIT_KEY_LABEL_PREFIX}${id}`), undefined);
    } finally {
      await probe.close();
    }
  });

  it('refuses to use an HSM key on a server without an HSM backend', async () => {
    const { engine, storage } = setup();
    const ct = await enc(engine, 'h', 'x', { type: 'hsm-aes256-gcm96' });
    const noHsm = makeEngine(storage, { software: new SoftwareKeyBackend() });
    await rejectsCode(write(noHsm, 'decrypt/h', { ciphertext: ct }), 'ERR_HSM_UNAVAILABLE');
  });
});
