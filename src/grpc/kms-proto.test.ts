import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { kmsMethod } from './kms-proto.ts';

const VECTORS = new URL('../k8s/testdata/vectors/kubernetes-transformers.json', import.meta.url);
const vectorSchema = z.object({
  kmsGrpcMessages: z.array(z.object({ id: z.string(), method: z.string(), message: z.string(), fields: z.record(z.string(), z.unknown()), protobufHex: z.string() })),
});
const messages = vectorSchema.parse(JSON.parse(readFileSync(VECTORS, 'utf8'))).kmsGrpcMessages.filter((m) => m.method !== '');

/** Vector fields → the JS object grpc-js hands the plugin (…Hex → bytes, annotation values → bytes). */
function expected(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k.endsWith('Hex')) out[k.slice(0, -3)] = Buffer.from(String(v), 'hex');
    else if (k === 'annotations') out[k] = Object.fromEntries(Object.entries(z.record(z.string(), z.string()).parse(v)).map(([a, b]) => [a, Buffer.from(b)]));
    else out[k] = v;
  }
  return out;
}

function normalise(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v instanceof Uint8Array) out[k] = Buffer.from(v);
    else if (v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([a, b]) => [a, Buffer.from(b as Uint8Array)]));
    else out[k] = v;
  }
  return out;
}

describe('plugin-side decoding of the KMS gRPC vectors', () => {
  it('covers every documented v2 and v1beta1 message', () => assert.equal(messages.length, 12));
  for (const m of messages) {
    const [, api, rpc] = /^\/(v2|v1beta1)\.KeyManagementService\/(\w+)$/.exec(m.method) ?? [];
    const method = kmsMethod(api as 'v2' | 'v1beta1', rpc!);
    const isRequest = m.message.endsWith('Request');
    it(`${m.id}: the server's ${isRequest ? 'request decoder' : 'response encoder'} agrees with ${m.message}`, () => {
      assert.equal(method.path, m.method);
      const want = expected(m.fields);
      const bytes = Buffer.from(m.protobufHex, 'hex');
      if (isRequest) {
        const got = method.requestDeserialize(bytes) as Record<string, unknown>;
        assert.deepEqual(normalise(got, Object.keys(want)), want);
      } else {
        assert.equal(method.responseSerialize(want).toString('hex'), m.protobufHex);
      }
    });
  }
});
