/**
 * The gRPC transport: one @grpc/grpc-js server on a unix socket serving both
 * `v2.KeyManagementService` (Status, Encrypt, Decrypt) and `v1beta1.KeyManagementService`
 * (Version, Encrypt, Decrypt) over a KmsPluginService. Errors become gRPC statuses through the
 * GRPC_STATUS table, with the message `<ERR_CODE>: <what to fix>` so callers can match the code.
 */
import * as grpc from '@grpc/grpc-js';
import { type ArcaError, GRPC_STATUS, toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { PluginMetrics } from './metrics.ts';
import { kmsServiceDefinition } from './proto.ts';
import type { KmsPluginService } from './service.ts';
import { bindPrivate, clearStaleSocket, removeSocket } from './socket.ts';

export const RUNTIME_NAME = 'arca-kms-plugin';
export const RUNTIME_VERSION = '0.1.0';
/** Requests are a few hundred bytes; anything near this is garbage. */
const MAX_MESSAGE = 64 * 1024;

type Req = Record<string, unknown>;
type Done = (err: grpc.ServiceError | null, res?: object) => void;
type Handler = (req: Req) => object | Promise<object>;

function bytesField(req: Req, name: string): Uint8Array {
  const v = req[name];
  return v instanceof Uint8Array ? v : new Uint8Array(0);
}

function stringField(req: Req, name: string): string {
  const v = req[name];
  return typeof v === 'string' ? v : '';
}

export function toGrpcError(e: ArcaError): grpc.ServiceError {
  const err = new Error(`${e.code}: ${e.expose ? e.message : 'internal error'}`) as grpc.ServiceError;
  err.code = GRPC_STATUS[e.code];
  err.details = err.message;
  err.metadata = new grpc.Metadata();
  return err;
}

export interface GrpcServerOptions {
  socketPath: string;
  service: KmsPluginService;
  log: Logger;
  metrics?: PluginMetrics;
}

export class KmsGrpcServer {
  readonly #server: grpc.Server;
  readonly #o: GrpcServerOptions;

  constructor(o: GrpcServerOptions) {
    this.#o = o;
    this.#server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
    const s = o.service;
    this.#server.addService(kmsServiceDefinition('v2'), {
      Status: this.#unary('v2.Status', () => {
        const st = s.status();
        return { version: st.version, healthz: st.healthz, key_id: st.keyId };
      }),
      Encrypt: this.#unary('v2.Encrypt', (req) => {
        const r = s.encrypt(bytesField(req, 'plaintext'));
        return { ciphertext: r.ciphertext, key_id: r.keyId, annotations: {} };
      }),
      Decrypt: this.#unary('v2.Decrypt', async (req) => ({
        plaintext: await s.decrypt(bytesField(req, 'ciphertext'), stringField(req, 'key_id')),
      })),
    });
    this.#server.addService(kmsServiceDefinition('v1beta1'), {
      Version: this.#unary('v1beta1.Version', () => ({ version: 'v1beta1', runtime_name: RUNTIME_NAME, runtime_version: RUNTIME_VERSION })),
      Encrypt: this.#unary('v1beta1.Encrypt', (req) => ({ cipher: s.encrypt(bytesField(req, 'plain')).ciphertext })),
      Decrypt: this.#unary('v1beta1.Decrypt', async (req) => ({ plain: await s.decrypt(bytesField(req, 'cipher'), undefined) })),
    });
  }

  #unary(rpc: string, fn: Handler): grpc.handleUnaryCall<Req, object> {
    const m = this.#o.metrics;
    const log = this.#o.log;
    const fail = (err: unknown, done: (code?: string) => void, cb: Done) => {
      const e = toArcaError(err);
      done(e.code);
      if (e.code === 'ERR_INTERNAL') log.error({ rpc, err: e.cause }, 'kms rpc failed');
      else log.debug({ rpc, code: e.code, reason: e.message }, 'kms rpc refused');
      cb(toGrpcError(e));
    };
    return (call, cb: Done) => {
      const done = m ? m.observe(rpc) : () => {};
      try {
        const r = fn(call.request);
        if (r instanceof Promise) {
          r.then(
            (res) => {
              done();
              cb(null, res);
            },
            (err: unknown) => fail(err, done, cb),
          );
        } else {
          done();
          cb(null, r);
        }
      } catch (err) {
        fail(err, done, cb);
      }
    };
  }

  async listen(): Promise<void> {
    const path = this.#o.socketPath;
    await clearStaleSocket(path);
    await bindPrivate(
      path,
      () =>
        new Promise<number>((resolve, reject) =>
          this.#server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
        ),
    );
  }

  /** Stops accepting, lets in-flight calls finish (at most graceMs), removes the socket file. */
  async close(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    removeSocket(this.#o.socketPath);
  }
}
