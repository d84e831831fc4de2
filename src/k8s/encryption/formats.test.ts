/**
 * A negative test for each stored-format field, and no-crash property tests for every parser.
 * Pure unit tests of the stored bytes: the KMS v1/v2 envelopes are built with in-process identity
 * stand-ins for the KmsV1Service/KmsV2Service interface (see identityKms1/identityKms2), so every
 * field can be mutated and checked deterministically; no KMS is under test here. The same envelopes
 * through the real `arca kms-plugin` (a dev `arca server`'s transit key, gRPC over a Unix socket)
 * are covered by src/k8s/etcd/etcd.test.ts, "KMS v2 and v1 envelopes through the real plugin: each
 * layer opens by hand, and tampering is refused" (plus the KMS values of its seeded mix), and for v2
 * also by test/integration/kms-plugin.test.ts, "works end to end with the apiserver-side KMS v2
 * transformer and the v1 gRPC client".
 */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
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
/** Rejects with the uniform decrypt error; `reason` (debug-only detail) names which check failed. */
const rejectsDecrypt = (pr: Promise<unknown>, reason?: string) =>
  assert.rejects(pr, (e) => isArcaError(e, 'ERR_TRANSFORM_DECRYPT') && (reason === undefined || e.details?.['reason'] === reason));
/** AES-CBC without padding: the exact body for chosen whole blocks. */
const cbcRaw = (key: Uint8Array, iv: Uint8Array, blocks: Uint8Array) => {
  const c = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv).setAutoPadding(false);
  return Buffer.concat([c.update(blocks), c.final()]);
};

/*
 * Identity stand-ins for the KMS service interface, kept on purpose: with EDEK = DEK the tests below
 * can change the DEK through the stored bytes ("DEK changed"), know the EDEK length for the kms v1
 * CBC-fallback arithmetic, and choose the plugin's key_id and annotations. A real plugin gives
 * none of that. The real plugin's counterpart of these format tests: src/k8s/etcd/etcd.test.ts,
 * "KMS v2 and v1 envelopes through the real plugin: each layer opens by hand, and tampering is refused".
 */
const identityKms1: KmsV1Service = { encrypt: async (x) => Buffer.from(x), decrypt: async (x) => Buffer.from(x) };
const identityKms2 = (keyId = 'k1'): KmsV2Service => ({
  status: async () => ({ version: 'v2', healthz: 'ok', keyId }),
  encrypt: async (x) => ({ ciphertext: Buffer.from(x), keyId, annotations: {} }),
  decrypt: async (r) => Buffer.from(r.ciphertext),
});

describe('format fields: each one is checked', () => {
  it('aescbc: IV, body length, padding', async () => {
    const key = Buffer.alloc(16, 1);
    const iv = Buffer.alloc(16, 7);
    const t = new AesCbcTransformer(key, () => iv);
    const v = await t.toStorage(p);
    // IV(16) ‖ C, and C is P padded to the next whole block (17 bytes → 32).
    assert.deepEqual(Buffer.from(v.subarray(0, 16)), iv);
    assert.equal(v.length, 16 + 32);
    assert.deepEqual(Buffer.from(v.subarray(16)), cbcRaw(key, iv, Buffer.concat([p, Buffer.alloc(15, 15)])));
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 16)), 'aescbc: bad length'); // IV only: upstream panics
    await rejectsDecrypt(t.fromStorage(v.subarray(0, 40)), 'aescbc: bad length'); // not a multiple of 16
    // Not authenticated (as upstream): flipping IV byte 15 flips exactly plaintext byte 15.
    assert.deepEqual(Buffer.from((await t.fromStorage(flip(v, 15))).plaintext), flip(p, 15));
    // Padding is checked byte for byte. Each body is built under the right key with a chosen last
    // block, so whether it passes does not depend on chance (a wrong key would pass 1 time in 256).
    const last = (tail: number[]) => Buffer.concat([Buffer.alloc(16 - tail.length, 0xaa), Buffer.from(tail)]);
    const body = (block: Buffer) => Buffer.concat([iv, cbcRaw(key, iv, Buffer.concat([p.subarray(0, 16), block]))]);
    for (const bad of [[0], [17], [3, 3], [1, 2], [0xaa, 2, 2, 3]]) await rejectsDecrypt(t.fromStorage(body(last(bad))), 'aescbc: bad padding');
    assert.deepEqual(Buffer.from((await t.fromStorage(body(last([3, 3, 3])))).plaintext), Buffer.concat([p.subarray(0, 16), Buffer.alloc(13, 0xaa)]));
    assert.deepEqual(Buffer.from((await t.fromStorage(body(Buffer.alloc(16, 16)))).plaintext), p.subarray(0, 16));
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
    // After AES-GCM fails, kms v1 tries the old AES-CBC format. This body (nonce 12 + 17 + tag 16)
    // is no whole number of CBC blocks, so that fallback refuses it by length, never by chance.
    assert.notEqual((v.length - 2 - 32) % 16, 0);
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
