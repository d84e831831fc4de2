/**
 * Transport 2: the thin unary gRPC server on node:http2 (src/grpc/h2-unary-server.ts, shared with
 * the CSI provider), serving the same handler table as grpc-server.ts. BENCH.md measured this
 * shape at ~1.5× grpc-js.
 */
import { H2UnaryServer, type UnaryMethod } from '../grpc/index.ts';
import { buildHandlers, MAX_MESSAGE, runUnary } from './handlers.ts';
import type { KmsServer, KmsServerOptions } from './transport.ts';

export { encodeGrpcMessage, frame, parseGrpcTimeout } from '../grpc/index.ts';

export class KmsH2Server implements KmsServer {
  readonly #server: H2UnaryServer;

  constructor(o: KmsServerOptions) {
    const methods = new Map<string, UnaryMethod>();
    for (const [path, h] of buildHandlers(o.service)) {
      methods.set(path, {
        decode: h.decode,
        encode: h.encode,
        urgent: h.urgent,
        run: (req, ok, fail) => runUnary(h, req, ok, fail, o.log, o.metrics),
      });
    }
    this.#server = new H2UnaryServer({ socketPath: o.socketPath, methods, maxMessage: MAX_MESSAGE });
  }

  listen(): Promise<void> {
    return this.#server.listen();
  }

  close(graceMs = 5000): Promise<void> {
    return this.#server.close(graceMs);
  }
}
