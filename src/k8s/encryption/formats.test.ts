/** A negative test for each stored-format field, and no-crash property tests for every parser. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { AesCbcTransformer, AesGcmTransformer } from './aes.ts';
import { buildProviderChain } from './build.ts';
import { parseEncryptionConfig } from './config.ts';
import { decodeEncryptedObject, encodeEncryptedObject, type EncryptedObject, validateEncryptedObject } from './encrypted-object.ts';
import type { KmsV1Service, KmsV2Service } from './kms-service.ts';
import { KmsV1Transformer } from './kms-v1.ts';
import { KmsV2Transformer } from './kms-v2.ts';
import { readFields } from './protowire.ts';
import { SecretboxTransformer } from './secretbox.ts';

const aad = Buffer.from('/registry/secrets/ns/name');
const p = Buffer.from('hello, kubernetes');
const flip = (b: Uint8Array, i: number) => {
  const c = Buffer.from(b);
  c[i < 0 ? c.length + i : i]! ^= 1;
  return c;
};
const rejectsDecrypt = (pr: Promise<unknown>) => assert.rejects(pr, (e) => isArcaError(e, 'ERR_TRANSFORM_DECRYPT'));

const identityKms1: KmsV1Service = { encrypt: async (x) => Buffer.from(x), decrypt: async (x) => Buffer.from(x) };
const identityKms2 = (keyId = 'k1'): KmsV2Service => ({
  status: async () => ({ version: 'v2', healthz: 'ok', keyId }),
  encrypt: async (x) => ({ ciphertext: Buffer.from(x), keyId, annotations: {} }),
  decrypt: async (r) => Buffer.from(r.ciphertext),
});

describe('format fields: each one is checked', () => {
  it('aescbc: IV, body length, padding', async () => {
    const t = new AesCbcTransformer(Buffer.alloc(16, 1));
    const v = await t.toStorage(p);
    assert.equal(v.length, 16 + 32);
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 16))); // IV only: upstream panics
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 40))); // not a multiple of 16
    // flipping the last IV byte changes only plaintext byte 15 (no authentication, as upstream)
    assert.notDeepEqual(Buffer.from((await t.fromStorage(flip(v, 15))).plaintext), p);
    await rejectsDecrypt(new AesCbcTransformer(Buffer.alloc(16, 2)).fromStorage(Buffer.concat([v.subarray(0, 16), Buffer.alloc(16)])));
  });
  it('aesgcm: nonce, ciphertext, tag, AAD', async () => {
    const t = new AesGcmTransformer(Buffer.alloc(32, 1));
    const v = await t.toStorage(p, aad);
    for (const i of [0, 12, -1]) await rejectsDecrypt(t.fromStorage(flip(v, i), aad));
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 27), aad));
    await rejectsDecrypt(t.fromStorage(v, Buffer.from('/registry/secrets/ns/other')));
  });
  it('secretbox: nonce, tag, ciphertext', async () => {
    const t = new SecretboxTransformer(Buffer.alloc(32, 1));
    const v = await t.toStorage(p);
    for (const i of [0, 24, 40]) await rejectsDecrypt(t.fromStorage(flip(v, i)));
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 39)));
  });
  it('kms v1: EDEK length, EDEK, body, AAD', async () => {
    const t = new KmsV1Transformer('p', identityKms1, -1);
    const v = await t.toStorage(p, aad);
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 1), aad));
    await rejectsDecrypt(t.fromStorage(Buffer.concat([Buffer.of(0xff, 0xff), v.subarray(2)]), aad));
    await rejectsDecrypt(t.fromStorage(flip(v, 5), aad)); // DEK changed
    await rejectsDecrypt(t.fromStorage(flip(v, -1), aad));
    await rejectsDecrypt(t.fromStorage(v, Buffer.from('x')));
  });
  it('kms v2: every EncryptedObject field is validated', async () => {
    const t = new KmsV2Transformer('p', identityKms2());
    const v = await t.toStorage(p, aad);
    const o = decodeEncryptedObject(v);
    assert.equal(o.encryptedDekSourceType, 1);
    const bad = async (mut: (o: EncryptedObject) => void) => {
      const c: EncryptedObject = { ...o, annotations: { ...o.annotations } };
      mut(c);
      await rejectsDecrypt(t.fromStorage(encodeEncryptedObject(c), aad));
    };
    await bad((c) => (c.encryptedData = new Uint8Array(0)));
    await bad((c) => (c.encryptedData = flip(c.encryptedData, 0))); // HKDF info
    await bad((c) => (c.encryptedData = flip(c.encryptedData, 32))); // nonce
    await bad((c) => (c.encryptedData = flip(c.encryptedData, -1))); // tag
    await bad((c) => (c.keyId = ''));
    await bad((c) => (c.keyId = 'x'.repeat(1025)));
    await bad((c) => (c.encryptedDekSource = new Uint8Array(0)));
    await bad((c) => (c.encryptedDekSource = new Uint8Array(1025)));
    await bad((c) => (c.encryptedDekSource = flip(c.encryptedDekSource, 0)));
    await bad((c) => (c.encryptedDekSourceType = 2));
    await bad((c) => (c.encryptedDekSourceType = 0)); // a seed is not a DEK
    await bad((c) => (c.annotations['NotFQDN'] = Buffer.from('1')));
    await bad((c) => (c.annotations['a.example.com'] = new Uint8Array(33 * 1024)));
    await rejectsDecrypt(t.fromStorage(v, Buffer.from('/registry/secrets/ns/moved')));
    await rejectsDecrypt(t.fromStorage(Buffer.of(0x0a, 0x05, 1), aad)); // truncated protobuf
  });
  it('kms v2: the annotations of the plugin are stored and given back on decrypt', async () => {
    let seen: Record<string, Uint8Array> = {};
    const svc: KmsV2Service = {
      ...identityKms2(),
      encrypt: async (x) => ({ ciphertext: Buffer.from(x), keyId: 'k1', annotations: { 'v.example.com': Buffer.from('2') } }),
      decrypt: async (r) => {
        seen = r.annotations;
        return Buffer.from(r.ciphertext);
      },
    };
    const v = await new KmsV2Transformer('p', svc).toStorage(p, aad);
    const r = await new KmsV2Transformer('p', svc).fromStorage(v, aad);
    assert.ok(Buffer.from(r.plaintext).equals(p));
    assert.equal(Buffer.from(seen['v.example.com']!).toString(), '2');
  });
});

describe('parsers never crash (property)', () => {
  const onlyArcaErrors = async (f: () => unknown) => {
    try {
      await f();
    } catch (e) {
      assert.ok(isArcaError(e), String(e));
    }
  };
  it('protobuf field reader and EncryptedObject decoder', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (b) => {
        await onlyArcaErrors(() => readFields(b));
        await onlyArcaErrors(() => validateEncryptedObject(decodeEncryptedObject(b)));
      }),
    );
  });
  it('the provider chain on arbitrary stored bytes', async () => {
    const k = Buffer.alloc(32, 3).toString('base64');
    const chain = buildProviderChain(
      parseEncryptionConfig(
        JSON.stringify({
          kind: 'EncryptionConfiguration',
          apiVersion: 'apiserver.config.k8s.io/v1',
          resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'a', secret: k }] } }, { aescbc: { keys: [{ name: 'a', secret: k }] } }, { secretbox: { keys: [{ name: 'a', secret: k }] } }] }],
        }),
      ).resources[0]!.providers,
      { v1: () => identityKms1, v2: () => identityKms2() },
    );
    const prefixes = ['', 'k8s:enc:aesgcm:v1:a:', 'k8s:enc:aescbc:v1:a:', 'k8s:enc:secretbox:v1:a:', 'k8s:enc:aesgcm:v1:'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200 }), async (pre, b) => {
        await onlyArcaErrors(() => chain.fromStorage(Buffer.concat([Buffer.from(pre), b]), aad));
      }),
    );
  });
  it('EncryptionConfiguration parser on arbitrary text and JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (s) => {
        await onlyArcaErrors(() => parseEncryptionConfig(s));
        await onlyArcaErrors(() => parseEncryptionConfig(`kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources: ${s}`));
      }),
    );
  });
});
