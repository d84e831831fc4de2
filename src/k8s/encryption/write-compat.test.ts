/**
 * Values Arca writes, opened by an independent implementation of the documented layouts (direct
 * node:crypto / noble primitive calls here, not our transformers), and bound to the etcd key exactly
 * where Kubernetes binds it (aesgcm, kms v1, kms v2) and nowhere else (aescbc, secretbox).
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { xsalsa20 } from '@noble/ciphers/salsa.js';
import { tempDir } from '../../../test/harness/index.ts';
import { buildTransformers } from './build.ts';
import { parseEncryptionConfig } from './config.ts';
import { type FakeKmsPlugin, startFakeKms } from './testing/fake-kms.ts';

const KEY = '/registry/secrets/default/db-password';
const MOVED = '/registry/secrets/default/other';
const aad = Buffer.from(KEY);
const plaintext = Buffer.from('k8s\0 a secret value that spans more than one AES block');
const K = (n: number, b: number) => Buffer.alloc(n, b);

function config(provider: unknown) {
  return parseEncryptionConfig(
    JSON.stringify({
      kind: 'EncryptionConfiguration',
      apiVersion: 'apiserver.config.k8s.io/v1',
      resources: [{ resources: ['secrets'], providers: [provider, { identity: {} }] }],
    }),
  );
}

function gcmOpen(key: Buffer, body: Buffer, ad: Buffer): Buffer {
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, body.subarray(0, 12));
  d.setAAD(ad);
  d.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]);
}

function splitPrefix(v: Uint8Array, prefix: string): Buffer {
  const b = Buffer.from(v);
  assert.equal(b.subarray(0, prefix.length).toString(), prefix);
  return b.subarray(prefix.length);
}

async function roundTrip(provider: unknown, kms?: Parameters<typeof buildTransformers>[1]) {
  const t = buildTransformers(config(provider), { kmsV1: true, ...kms }).forResource('secrets').transformer;
  const stored = await t.toStorage(plaintext, aad);
  const back = await t.fromStorage(stored, aad);
  assert.ok(Buffer.from(back.plaintext).equals(plaintext));
  assert.equal(back.stale, false);
  const moved = t.fromStorage(stored, Buffer.from(MOVED));
  return { stored, moved };
}

describe('values Arca writes are what Kubernetes reads', () => {
  it('aescbc: prefix ‖ IV ‖ AES-CBC/PKCS#7, etcd key not bound', async () => {
    const key = K(32, 7);
    const { stored, moved } = await roundTrip({ aescbc: { keys: [{ name: 'k1', secret: key.toString('base64') }] } });
    const body = splitPrefix(stored, 'k8s:enc:aescbc:v1:k1:');
    assert.equal(body.length, 16 + 16 * (Math.floor(plaintext.length / 16) + 1));
    const d = createDecipheriv('aes-256-cbc', key, body.subarray(0, 16));
    assert.ok(Buffer.concat([d.update(body.subarray(16)), d.final()]).equals(plaintext));
    assert.ok(Buffer.from((await moved).plaintext).equals(plaintext));
  });

  it('aesgcm: prefix ‖ nonce ‖ C ‖ tag with AAD = etcd key', async () => {
    const key = K(16, 9);
    const { stored, moved } = await roundTrip({ aesgcm: { keys: [{ name: 'g', secret: key.toString('base64') }] } });
    const body = splitPrefix(stored, 'k8s:enc:aesgcm:v1:g:');
    assert.equal(body.length, 12 + plaintext.length + 16);
    assert.ok(gcmOpen(key, body, aad).equals(plaintext));
    assert.throws(() => gcmOpen(key, body, Buffer.from(MOVED)));
    await assert.rejects(moved, (e: { code?: string }) => e.code === 'ERR_TRANSFORM_DECRYPT');
  });

  it('secretbox: prefix ‖ nonce(24) ‖ tag(16) ‖ C (XSalsa20-Poly1305), etcd key not bound', async () => {
    const key = K(32, 5);
    const { stored, moved } = await roundTrip({ secretbox: { keys: [{ name: 's', secret: key.toString('base64') }] } });
    const body = splitPrefix(stored, 'k8s:enc:secretbox:v1:s:');
    assert.equal(body.length, 24 + 16 + plaintext.length);
    const nonce = body.subarray(0, 24);
    const tag = body.subarray(24, 40);
    const c = body.subarray(40);
    // NaCl secretbox from primitives: keystream block 0 (first 32 bytes) is the Poly1305 key.
    const stream = xsalsa20(key, nonce, new Uint8Array(32 + c.length));
    assert.ok(Buffer.from(poly1305(c, stream.subarray(0, 32))).equals(tag));
    const p = Buffer.from(c.map((x, i) => x ^ stream[32 + i]!));
    assert.ok(p.equals(plaintext));
    assert.ok(Buffer.from((await moved).plaintext).equals(plaintext));
  });

  describe('kms', () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let v1: FakeKmsPlugin;
    let v2: FakeKmsPlugin;
    const kek = K(32, 0x42);
    before(async () => {
      dir = await tempDir('arca-wc-');
      v1 = await startFakeKms({ apiVersion: 'v1', scheme: 'base64' }, `${dir.path}/v1.sock`);
      v2 = await startFakeKms(
        { apiVersion: 'v2', scheme: 'aes-256-gcm-kek', currentKeyId: 'kek-1', keksHex: { 'kek-1': kek.toString('hex') }, annotations: { 'version.encryption.example.com': '1' } },
        `${dir.path}/v2.sock`,
      );
    });
    after(async () => {
      await v1.stop();
      await v2.stop();
      await dir.remove();
    });

    it('kms v1: prefix ‖ len(2) ‖ EDEK ‖ AES-256-GCM(DEK) with AAD = etcd key', async () => {
      const { stored, moved } = await roundTrip({ kms: { name: 'legacy', endpoint: v1.endpoint } });
      const body = splitPrefix(stored, 'k8s:enc:kms:v1:legacy:');
      const len = body.readUInt16BE(0);
      const dek = Buffer.from(body.subarray(2, 2 + len).toString(), 'base64');
      assert.equal(dek.length, 32);
      assert.ok(gcmOpen(dek, body.subarray(2 + len), aad).equals(plaintext));
      await assert.rejects(moved, (e: { code?: string }) => e.code === 'ERR_TRANSFORM_DECRYPT');
    });

    it('kms v2: prefix ‖ EncryptedObject (seed mode, HKDF-Expand info ‖ nonce ‖ C ‖ tag, AAD = etcd key)', async () => {
      const { stored, moved } = await roundTrip({ kms: { apiVersion: 'v2', name: 'vault', endpoint: v2.endpoint } });
      const body = splitPrefix(stored, 'k8s:enc:kms:v2:vault:');
      // independent protobuf walk: every field here is length-delimited except field 5 (varint)
      const f: Record<number, Buffer[]> = {};
      let type = 0;
      for (let p = 0; p < body.length; ) {
        const tag = body[p++]!;
        if (tag === 0x28) {
          type = body[p++]!;
          continue;
        }
        let len = 0;
        let shift = 0;
        for (;;) {
          const b = body[p++]!;
          len |= (b & 0x7f) << shift;
          shift += 7;
          if (!(b & 0x80)) break;
        }
        const list = f[tag >> 3] ?? [];
        list.push(body.subarray(p, p + len));
        f[tag >> 3] = list;
        p += len;
      }
      assert.equal(type, 1);
      assert.equal(f[2]![0]!.toString(), 'kek-1');
      const annotation = f[4]![0]!;
      assert.ok(annotation.includes(Buffer.from('version.encryption.example.com')));
      const seed = gcmOpen(kek, f[3]![0]!, Buffer.alloc(0));
      assert.equal(seed.length, 32);
      const data = f[1]![0]!;
      assert.equal(data.length, 32 + 12 + plaintext.length + 16);
      const dek = createHmac('sha256', seed).update(data.subarray(0, 32)).update(Buffer.of(1)).digest();
      assert.ok(gcmOpen(dek, data.subarray(32), aad).equals(plaintext));
      await assert.rejects(moved, (e: { code?: string }) => e.code === 'ERR_TRANSFORM_DECRYPT');
    });

    it('kms v2: a key_id rotation at the plugin makes old values stale and new writes use the new key_id', async () => {
      const t = buildTransformers(config({ kms: { apiVersion: 'v2', name: 'rot', endpoint: v2.endpoint } }));
      const chain = t.forResource('secrets').transformer;
      const old = await chain.toStorage(plaintext, aad);
      v2.setCurrentKeyId('kek-2', K(32, 0x43).toString('hex'));
      await t.refreshKms();
      const r = await chain.fromStorage(old, aad);
      assert.equal(r.stale, true);
      assert.equal(r.info?.keyId, 'kek-1');
      const fresh = await chain.fromStorage(await chain.toStorage(plaintext, aad), aad);
      assert.deepEqual([fresh.stale, fresh.info?.keyId], [false, 'kek-2']);
      v2.setCurrentKeyId('kek-1');
      t.close();
    });
  });

  it('a value read through a later provider is stale; identity-first writes plaintext', async () => {
    const key = K(32, 1).toString('base64');
    const writer = buildTransformers(config({ aesgcm: { keys: [{ name: 'a', secret: key }] } })).forResource('secrets').transformer;
    const stored = await writer.toStorage(plaintext, aad);
    const reader = buildTransformers(
      parseEncryptionConfig(
        JSON.stringify({
          kind: 'EncryptionConfiguration',
          apiVersion: 'apiserver.config.k8s.io/v1',
          resources: [{ resources: ['secrets'], providers: [{ identity: {} }, { aesgcm: { keys: [{ name: 'a', secret: key }] } }] }],
        }),
      ),
    ).forResource('secrets').transformer;
    const r = await reader.fromStorage(stored, aad);
    assert.equal(r.stale, true);
    assert.ok(Buffer.from(await reader.toStorage(plaintext, aad)).equals(plaintext));
  });
});
