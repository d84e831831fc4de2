import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createSoftHsmToken, type SoftHsmToken } from '../../../test/harness/index.ts';
import { Secret } from '../../log/index.ts';
import { Pkcs11Hsm } from './hsm.ts';
import { pkcs11js } from './module.ts';
import { Pkcs11Session } from './session.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('Pkcs11Hsm (SoftHSM2)', () => {
  let token: SoftHsmToken;
  let hsm: Pkcs11Hsm;
  const opts = () => ({ module: token.module, tokenLabel: token.label, pin: token.pin });

  before(async () => {
    token = await createSoftHsmToken('arca-hsm-test');
    process.env.SOFTHSM2_CONF = token.conf;
    hsm = await Pkcs11Hsm.open(opts());
  });
  after(async () => {
    await hsm.close();
    await token.remove();
  });

  it('round-trips AES-GCM through the HSM with the nonce‖ct‖tag layout', async () => {
    const key = await hsm.generateAesKey('rt', randomBytes(16));
    const pt = enc('the root key, say');
    const ct = await hsm.encryptGcm(key, pt, enc('aad'));
    assert.equal(ct.length, 12 + pt.length + 16);
    assert.deepEqual(await hsm.decryptGcm(key, ct, enc('aad')), pt);
    const again = await hsm.encryptGcm(key, pt, enc('aad'));
    assert.notDeepEqual(again.subarray(0, 12), ct.subarray(0, 12), 'a fresh IV per encryption');
  });

  it('round-trips an empty plaintext and an empty AAD', async () => {
    const key = await hsm.generateAesKey('empty', randomBytes(16));
    const ct = await hsm.encryptGcm(key, new Uint8Array(0), new Uint8Array(0));
    assert.equal(ct.length, 28);
    assert.deepEqual(await hsm.decryptGcm(key, ct, new Uint8Array(0)), new Uint8Array(0));
    // and the session is still usable afterwards
    const ct2 = await hsm.encryptGcm(key, enc('x'), enc('y'));
    assert.deepEqual(await hsm.decryptGcm(key, ct2, enc('y')), enc('x'));
  });

  it('rejects a tampered ciphertext, tag or nonce with ERR_CRYPTO_DECRYPT', async () => {
    const key = await hsm.generateAesKey('tamper', randomBytes(16));
    const ct = await hsm.encryptGcm(key, enc('secret'), enc('a'));
    for (const i of [0, 12, ct.length - 1]) {
      const bad = new Uint8Array(ct);
      bad[i]! ^= 1;
      await assert.rejects(hsm.decryptGcm(key, bad, enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
    }
    await assert.rejects(hsm.decryptGcm(key, ct.subarray(0, 27), enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
    await assert.rejects(hsm.decryptGcm(key, ct.subarray(0, ct.length - 1), enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
    // failures leave the session usable
    assert.deepEqual(await hsm.decryptGcm(key, ct, enc('a')), enc('secret'));
  });

  it('rejects a mismatched AAD or another key with ERR_CRYPTO_DECRYPT', async () => {
    const k1 = await hsm.generateAesKey('aad-1', randomBytes(16));
    const k2 = await hsm.generateAesKey('aad-2', randomBytes(16));
    const ct = await hsm.encryptGcm(k1, enc('secret'), enc('path/a'));
    await assert.rejects(hsm.decryptGcm(k1, ct, enc('path/b')), { code: 'ERR_CRYPTO_DECRYPT' });
    await assert.rejects(hsm.decryptGcm(k1, ct, new Uint8Array(0)), { code: 'ERR_CRYPTO_DECRYPT' });
    await assert.rejects(hsm.decryptGcm(k2, ct, enc('path/a')), { code: 'ERR_CRYPTO_DECRYPT' });
  });

  it('generates keys whose value cannot be read out of the token', async () => {
    const id = randomBytes(16);
    await hsm.generateAesKey('sealed-in', id);
    const s = Pkcs11Session.open(opts());
    try {
      const p11 = s.p11;
      p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: id }]);
      const [h] = p11.C_FindObjects(s.handle, 1);
      p11.C_FindObjectsFinal(s.handle);
      assert.ok(h);
      assert.throws(() => p11.C_GetAttributeValue(s.handle, h, [{ type: pkcs11js.CKA_VALUE }]), {
        code: pkcs11js.CKR_ATTRIBUTE_SENSITIVE,
      });
      const [extractable, sensitive, token, len] = p11.C_GetAttributeValue(s.handle, h, [
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_VALUE_LEN },
      ]);
      assert.equal(extractable?.value[0], 0);
      assert.equal(sensitive?.value[0], 1);
      assert.equal(token?.value[0], 1);
      assert.equal(len?.value.readUInt32LE(0), 32);
    } finally {
      s.close();
    }
  });

  it('finds keys by label and by id, and refuses ambiguous labels', async () => {
    const id = randomBytes(16);
    const made = await hsm.generateAesKey('arca-root-wrap', id);
    const byLabel = await hsm.findKey('arca-root-wrap');
    assert.ok(byLabel);
    assert.deepEqual(byLabel.id, new Uint8Array(id));
    const byId = await hsm.findKeyById(id);
    assert.equal(byId?.label, 'arca-root-wrap');
    assert.equal(await hsm.findKey('no-such-key'), undefined);
    assert.equal(await hsm.findKeyById(randomBytes(16)), undefined);
    const ct = await hsm.encryptGcm(made, enc('v'), enc('a'));
    // a key built from a persisted id (not handed out by this instance) works too
    assert.deepEqual(await hsm.decryptGcm({ label: 'arca-root-wrap', id: new Uint8Array(id) }, ct, enc('a')), enc('v'));
    await hsm.generateAesKey('dup', randomBytes(16));
    await hsm.generateAesKey('dup', randomBytes(16));
    await assert.rejects(hsm.findKey('dup'), { code: 'ERR_HSM_UNAVAILABLE' });
  });

  it('destroys keys: later use fails with ERR_HSM_KEY_MISSING, destroying again is fine', async () => {
    const id = randomBytes(16);
    const key = await hsm.generateAesKey('doomed', id);
    const ct = await hsm.encryptGcm(key, enc('v'), enc('a'));
    await hsm.destroyKey(key);
    assert.equal(await hsm.findKeyById(id), undefined);
    await assert.rejects(hsm.decryptGcm(key, ct, enc('a')), { code: 'ERR_HSM_KEY_MISSING' });
    await assert.rejects(hsm.encryptGcm({ label: 'doomed', id }, enc('v'), enc('a')), { code: 'ERR_HSM_KEY_MISSING' });
    await hsm.destroyKey({ label: 'doomed', id });
  });

  it('keeps keys across closing and reopening the module', async () => {
    const id = randomBytes(16);
    const other = await Pkcs11Hsm.open({ ...opts(), pin: new Secret(token.pin) });
    const key = await other.generateAesKey('persistent', id);
    const ct = await other.encryptGcm(key, enc('survives'), enc('a'));
    await other.close();
    // Close the shared instance too so the module is finalised and re-read from disk, as a new
    // process would.
    await hsm.close();
    hsm = await Pkcs11Hsm.open(opts());
    const found = await hsm.findKeyById(id);
    assert.ok(found);
    assert.deepEqual(await hsm.decryptGcm(found, ct, enc('a')), enc('survives'));
  });

  it('lets two instances share the module and stay logged in when one closes', async () => {
    const a = await Pkcs11Hsm.open(opts());
    const key = await hsm.generateAesKey('shared', randomBytes(16));
    const ct = await a.encryptGcm({ label: key.label, id: key.id }, enc('x'), enc('y'));
    await a.close();
    assert.deepEqual(await hsm.decryptGcm(key, ct, enc('y')), enc('x'));
  });

  it('fails with ERR_HSM_UNAVAILABLE on a wrong PIN, without the PIN in the message', async () => {
    const wrongPin = (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_HSM_UNAVAILABLE');
      assert.doesNotMatch(err.message, /98765/);
      assert.match(err.message, /PIN/);
      return true;
    };
    // while another instance of this process is logged in (PKCS#11 would not check the PIN) ...
    await assert.rejects(Pkcs11Hsm.open({ ...opts(), pin: '98765-wrong' }), wrongPin);
    // ... and with nobody logged in
    await hsm.close();
    try {
      await assert.rejects(Pkcs11Hsm.open({ ...opts(), pin: '98765-wrong' }), wrongPin);
    } finally {
      hsm = await Pkcs11Hsm.open(opts());
    }
  });

  it('fails with ERR_HSM_UNAVAILABLE on an unknown token label or a missing module', async () => {
    await assert.rejects(Pkcs11Hsm.open({ ...opts(), tokenLabel: 'no-such-token' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_HSM_UNAVAILABLE');
      assert.match(err.message, /no-such-token/);
      return true;
    });
    await assert.rejects(Pkcs11Hsm.open({ ...opts(), module: '/nonexistent/libpkcs11.so' }), { code: 'ERR_HSM_UNAVAILABLE' });
    // the shared module is still fine after failed opens
    const key = await hsm.generateAesKey('after-failures', randomBytes(16));
    assert.deepEqual(await hsm.decryptGcm(key, await hsm.encryptGcm(key, enc('v'), enc('a')), enc('a')), enc('v'));
  });
});
