/**
 * Transport 1: @grpc/grpc-js on a unix socket, serving the handler table of handlers.ts
 * (`v2.KeyManagementService` and `v1beta1.KeyManagementService`). Complete and simple; see
 * h2-server.ts for the faster thin transport.
 */
import * as grpc from '@grpc/grpc-js';
import { kmsServiceDefinition } from '../grpc/index.ts';
import { buildHandlers, MAX_MESSAGE, runUnary } from './handlers.ts';
import { bindPrivate, removeSocket } from '../grpc/index.ts';
import type { KmsServer, KmsServerOptions } from './transport.ts';

export class KmsGrpcServer implements KmsServer {
  readonly #server: grpc.Server;
  readonly #o: KmsServerOptions;

  constructor(o: KmsServerOptions) {
    this.#o = o;
    this.#server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
    const handlers = buildHandlers(o.service);
    for (const api of ['v2', 'v1beta1'] as const) {
      const def = kmsServiceDefinition(api);
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [name, m] of Object.entries(def)) {
        const h = handlers.get(m.path);
        if (!h) continue;
        impl[name] = ((call: grpc.ServerUnaryCall<Record<string, unknown>, object>, cb: grpc.sendUnaryData<object>) =>
          runUnary(
            h,
            call.request,
            (res) => cb(null, res),
            (f) => cb({ code: f.code, details: f.message, metadata: new grpc.Metadata() }),
            o.log,
            o.metrics,
          )) as grpc.handleUnaryCall<Record<string, unknown>, object>;
      }
      this.#server.addService(def, impl);
    }
  }

  async listen(): Promise<void> {
    const path = this.#o.socketPath;
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
