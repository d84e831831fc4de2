import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { summarizeObject } from './k8s-object.ts';
import { blobBytes, loadVectors } from './testing/vectors.ts';

const vectors = loadVectors().vectors;

describe('summarizeObject', () => {
  it('decodes the genuine protobuf Secret of the 1.27 legacy vector', () => {
    const v = vectors.find((x) => x.id === 'k8stest-kmsv2-legacy-v1.27-aes-gcm-key');
    assert.ok(v);
    const s = summarizeObject(blobBytes(v.plaintext));
    assert.deepEqual(s, {
      encoding: 'protobuf',
      apiVersion: 'v1',
      kind: 'Secret',
      name: 'dek-source-aes-gcm-key',
      namespace: 'kms-v2-legacy-data',
      dataKeys: ['api_key'],
    });
  });
  it('decodes JSON objects', () => {
    const s = summarizeObject(Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { b: '1', a: '2' } })));
    assert.deepEqual(s, { encoding: 'json', apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'ns', dataKeys: ['a', 'b'] });
  });
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        summarizeObject(Buffer.concat([Buffer.from('k8s\0', 'latin1'), b]));
        summarizeObject(b);
      }),
    );
  });
});
