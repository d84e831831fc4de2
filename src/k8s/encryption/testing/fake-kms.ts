/**
 * TEST-ONLY KMS plugin implementing the vectors' documented fake schemes over real gRPC on a unix
 * socket: `base64` (ciphertext = padded base64 text of the plaintext) and `aes-256-gcm-kek`
 * (ciphertext = nonce(12) ‖ AES-256-GCM(KEK, plaintext), no AAD). Never use outside tests.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { kmsServiceDefinition } from '../../../grpc/index.ts';

export const FakeKmsSpec = z.object({
  apiVersion: z.string(),
  /** `base64` or `aes-256-gcm-kek`; anything else makes every call fail with UNIMPLEMENTED */
  scheme: z.string(),
  kekHex: z.string().optional(),
  keksHex: z.record(z.string(), z.string()).optional(),
  currentKeyId: z.string().optional(),
  statusVersion: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  apiserverUsesKdf: z.boolean().optional(),
});
export type FakeKmsSpec = z.infer<typeof FakeKmsSpec>;

function gcmSeal(kek: Uint8Array, plain: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function gcmOpen(kek: Uint8Array, data: Uint8Array): Buffer {
  const d = createDecipheriv('aes-256-gcm', kek, data.subarray(0, 12));
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]);
}

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export interface FakeKmsPlugin {
  endpoint: string;
  /** Changes the v2 key_id reported by Status/used by Encrypt (rotation in tests). */
  setCurrentKeyId(id: string, kekHex?: string): void;
  calls: Record<string, number>;
  stop(): Promise<void>;
}

type Handler = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

export async function startFakeKms(spec: FakeKmsSpec, socketPath: string): Promise<FakeKmsPlugin> {
  const keks = new Map<string, Buffer>(Object.entries(spec.keksHex ?? {}).map(([k, v]) => [k, Buffer.from(v, 'hex')]));
  let current = spec.currentKeyId ?? '';
  const calls: Record<string, number> = {};
  const count = (m: string) => {
    calls[m] = (calls[m] ?? 0) + 1;
  };
  const known = spec.scheme === 'base64' || spec.scheme === 'aes-256-gcm-kek';
  const enc = (plain: Uint8Array, kek: Buffer | undefined): Buffer => {
    if (!known) throw fail(grpc.status.UNIMPLEMENTED, `unknown fake scheme ${spec.scheme}`);
    if (spec.scheme === 'base64') return Buffer.from(Buffer.from(plain).toString('base64'));
    if (!kek) throw fail(grpc.status.FAILED_PRECONDITION, 'no KEK');
    return gcmSeal(kek, plain);
  };
  const dec = (c: Uint8Array, kek: Buffer | undefined): Buffer => {
    if (!known) throw fail(grpc.status.UNIMPLEMENTED, `unknown fake scheme ${spec.scheme}`);
    if (spec.scheme === 'base64') return Buffer.from(Buffer.from(c).toString('latin1'), 'base64');
    if (!kek) throw fail(grpc.status.NOT_FOUND, 'unknown key');
    return gcmOpen(kek, c);
  };
  const wrap =
    (m: string, f: (req: Record<string, unknown>) => unknown): Handler =>
    (call, cb) => {
      count(m);
      try {
        cb(null, f(call.request));
      } catch (err) {
        cb(err instanceof Error && 'code' in err ? (err as grpc.ServiceError) : fail(grpc.status.INTERNAL, 'failed'));
      }
    };
  const server = new grpc.Server();
  if (spec.apiVersion === 'v1') {
    const kek = spec.kekHex ? Buffer.from(spec.kekHex, 'hex') : undefined;
    const def = kmsServiceDefinition('v1beta1');
    server.addService(def, {
      Version: wrap('Version', () => ({ version: 'v1beta1', runtime_name: 'arca-fake-kms', runtime_version: '0.0.1' })),
      Encrypt: wrap('Encrypt', (r) => ({ cipher: enc(r['plain'] as Buffer, kek) })),
      Decrypt: wrap('Decrypt', (r) => ({ plain: dec(r['cipher'] as Buffer, kek) })),
    });
  } else {
    const annotations = Object.fromEntries(Object.entries(spec.annotations ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
    const def = kmsServiceDefinition('v2');
    server.addService(def, {
      Status: wrap('Status', () => ({ version: spec.statusVersion ?? 'v2', healthz: 'ok', key_id: current })),
      Encrypt: wrap('Encrypt', (r) => {
        if (!r['uid']) throw fail(grpc.status.INVALID_ARGUMENT, 'uid is required');
        return { ciphertext: enc(r['plaintext'] as Buffer, keks.get(current)), key_id: current, annotations };
      }),
      Decrypt: wrap('Decrypt', (r) => {
        if (!r['uid']) throw fail(grpc.status.INVALID_ARGUMENT, 'uid is required');
        return { plaintext: dec(r['ciphertext'] as Buffer, keks.get(r['key_id'] as string)) };
      }),
    });
  }
  const endpoint = `unix://${socketPath}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    endpoint,
    calls,
    setCurrentKeyId(id, kekHex) {
      current = id;
      if (kekHex) keks.set(id, Buffer.from(kekHex, 'hex'));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
