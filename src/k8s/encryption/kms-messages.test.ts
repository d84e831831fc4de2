import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEncryptedObject, encodeEncryptedObject } from './encrypted-object.ts';
import { kmsMessage, kmsMethod } from '../../grpc/index.ts';
import { loadVectors } from './testing/vectors.ts';

const { grpcMessages } = loadVectors();

/** Vector field → [proto field, expected JS value]; "...Hex" fields are bytes. */
function expectedFields(fields: Record<string, unknown>): [string, unknown][] {
  return Object.entries(fields).map(([k, v]) => {
    if (k.endsWith('Hex')) return [k.slice(0, -3), Buffer.from(String(v), 'hex')];
    if (k === 'annotations') {
      const a = v as Record<string, string>;
      return [k, Object.fromEntries(Object.entries(a).map(([ak, av]) => [ak, Buffer.from(av)]))];
    }
    return [k, v];
  });
}

describe('KMS gRPC message encodings', () => {
  it('has the public messages', () => assert.ok(grpcMessages.length >= 13));
  for (const m of grpcMessages) {
    if (m.message.startsWith('v2.EncryptedObject')) {
      it(`${m.id}: decodes and re-encodes the storage EncryptedObject byte-identically`, () => {
        const bytes = Buffer.from(m.protobufHex, 'hex');
        const o = decodeEncryptedObject(bytes);
        assert.equal(o.keyId, m.fields['keyID']);
        assert.deepEqual(Buffer.from(o.encryptedData), Buffer.from(String(m.fields['encryptedDataHex']), 'hex'));
        assert.deepEqual(Buffer.from(o.encryptedDekSource), Buffer.from(String(m.fields['encryptedDEKSourceHex']), 'hex'));
        assert.equal(o.encryptedDekSourceType, /\(1\)/.test(String(m.fields['encryptedDEKSourceType'])) ? 1 : 0);
        const ann = m.fields['annotations'] as Record<string, string>;
        assert.deepEqual(Object.keys(o.annotations).sort(), Object.keys(ann).sort());
        for (const [k, v] of Object.entries(ann)) assert.equal(Buffer.from(o.annotations[k]!).toString(), v);
        assert.equal(Buffer.from(encodeEncryptedObject(o)).toString('hex'), m.protobufHex);
      });
      continue;
    }
    it(`${m.id}: decodes ${m.message} with our .proto and re-encodes identically`, () => {
      const [pkg, name] = m.message.split('.') as ['v2' | 'v1beta1', string];
      const t = kmsMessage(pkg, name);
      const decoded = t.deserialize(Buffer.from(m.protobufHex, 'hex')) as Record<string, unknown>;
      for (const [k, v] of expectedFields(m.fields)) {
        if (Buffer.isBuffer(v)) assert.deepEqual(Buffer.from(decoded[k] as Uint8Array), v, k);
        else if (k === 'annotations') {
          const got = decoded[k] as Record<string, Buffer>;
          assert.deepEqual(Object.fromEntries(Object.entries(got).map(([a, b]) => [a, Buffer.from(b)])), v);
        } else assert.equal(decoded[k], v, k);
      }
      assert.equal(t.serialize(decoded).toString('hex'), m.protobufHex);
    });
  }
  it('service method paths match the documented full gRPC names', () => {
    for (const m of grpcMessages.filter((x) => x.method)) {
      const [, pkg, rpc] = /^\/(v2|v1beta1)\.KeyManagementService\/(\w+)$/.exec(m.method) ?? [];
      assert.ok(pkg && rpc, m.method);
      assert.equal(kmsMethod(pkg as 'v2' | 'v1beta1', rpc).path, m.method);
    }
  });
});
