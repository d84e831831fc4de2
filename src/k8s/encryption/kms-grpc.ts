/**
 * gRPC clients for KMS plugins on unix sockets (insecure, as the apiserver dials them), each call
 * bounded by the configured timeout. Implement the KmsV1Service / KmsV2Service interfaces.
 */
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { kmsMethod } from '../../grpc/index.ts';
import type { KmsV1Service, KmsV2DecryptRequest, KmsV2EncryptResponse, KmsV2Service, KmsV2Status } from './kms-service.ts';

/** `unix:///path` → grpc target. Abstract sockets (`unix:///@name`) are not supported by grpc-js. */
export function kmsTarget(endpoint: string): string {
  const m = /^unix:\/\/(.*)$/.exec(endpoint);
  if (!m?.[1]) throw new ArcaError('ERR_ENCCONFIG_INVALID', `kms endpoint "${endpoint}" must be unix:///path/to/socket`);
  if (m[1].startsWith('/@')) {
    throw new ArcaError('ERR_UNSUPPORTED_OPERATION', `abstract unix sockets (${endpoint}) are not supported; use a socket path`);
  }
  return `unix://${m[1]}`;
}

const bytes = z.instanceof(Uint8Array);

class UnaryClient {
  private readonly client: grpc.Client;
  constructor(
    endpoint: string,
    private readonly version: 'v2' | 'v1beta1',
    private readonly timeoutMs: number,
    private readonly pluginName: string,
  ) {
    const opts: grpc.ChannelOptions = version === 'v2' ? { 'grpc.default_authority': 'localhost' } : {};
    this.client = new grpc.Client(kmsTarget(endpoint), grpc.credentials.createInsecure(), opts);
  }

  call(rpc: string, req: object): Promise<unknown> {
    const m = kmsMethod(this.version, rpc);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (err, res) => {
          if (err) {
            const unavailable = err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED;
            reject(
              new ArcaError(
                unavailable ? 'ERR_KMS_PLUGIN_UNAVAILABLE' : 'ERR_KMS_PLUGIN_RESPONSE',
                `kms plugin "${this.pluginName}" ${rpc} failed: ${grpc.status[err.code] ?? err.code}`,
                { cause: err },
              ),
            );
          } else resolve(res);
        },
      );
    });
  }

  parse<T>(schema: z.ZodType<T>, v: unknown, rpc: string): T {
    const r = schema.safeParse(v);
    if (!r.success) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `kms plugin "${this.pluginName}" sent a malformed ${rpc} response`);
    return r.data;
  }

  close(): void {
    this.client.close();
  }
}

// Response schemas, built once: a zod v4 schema compiles its fast path on first use, which costs
// ~40 µs and garbage per call when a schema is built inside the function that parses with it.
const V2Status = z.object({ version: z.string(), healthz: z.string(), key_id: z.string() });
const V2Encrypted = z.object({ ciphertext: bytes, key_id: z.string(), annotations: z.record(z.string(), bytes) });
const V2Decrypted = z.object({ plaintext: bytes });
const V1Version = z.object({ version: z.string() });
const V1Encrypted = z.object({ cipher: bytes });
const V1Decrypted = z.object({ plain: bytes });

export function grpcKmsV2(name: string, endpoint: string, timeoutMs: number): KmsV2Service {
  const c = new UnaryClient(endpoint, 'v2', timeoutMs, name);
  return {
    async status(): Promise<KmsV2Status> {
      const r = c.parse(V2Status, await c.call('Status', {}), 'Status');
      return { version: r.version, healthz: r.healthz, keyId: r.key_id };
    },
    async encrypt(plaintext, uid): Promise<KmsV2EncryptResponse> {
      const r = c.parse(
        V2Encrypted,
        await c.call('Encrypt', { plaintext, uid }),
        'Encrypt',
      );
      return { ciphertext: r.ciphertext, keyId: r.key_id, annotations: r.annotations };
    },
    async decrypt(req: KmsV2DecryptRequest): Promise<Uint8Array> {
      const r = c.parse(
        V2Decrypted,
        await c.call('Decrypt', { ciphertext: req.ciphertext, uid: req.uid, key_id: req.keyId, annotations: req.annotations }),
        'Decrypt',
      );
      return r.plaintext;
    },
    close: () => c.close(),
  };
}

const V1 = 'v1beta1';

export function grpcKmsV1(name: string, endpoint: string, timeoutMs: number): KmsV1Service {
  const c = new UnaryClient(endpoint, 'v1beta1', timeoutMs, name);
  let checked: Promise<void> | undefined;
  const check = () => {
    checked ??= c.call('Version', { version: V1 }).then((v) => {
      const r = c.parse(V1Version, v, 'Version');
      if (r.version !== V1) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `kms plugin "${name}" speaks ${r.version}, not ${V1}`);
    });
    checked.catch(() => {
      checked = undefined;
    });
    return checked;
  };
  return {
    async encrypt(plain) {
      await check();
      return c.parse(V1Encrypted, await c.call('Encrypt', { version: V1, plain }), 'Encrypt').cipher;
    },
    async decrypt(cipher) {
      await check();
      return c.parse(V1Decrypted, await c.call('Decrypt', { version: V1, cipher }), 'Decrypt').plain;
    },
    close: () => c.close(),
  };
}
