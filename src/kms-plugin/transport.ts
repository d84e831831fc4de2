/**
 * The two gRPC transports behind one interface. Each is loaded only when chosen, so the default
 * (http2) never loads @grpc/grpc-js and `arca kms-plugin` starts faster.
 */
import type { Logger } from '../log/index.ts';
import type { PluginMetrics } from './metrics.ts';
import type { KmsPluginService } from './service.ts';

export interface KmsServerOptions {
  socketPath: string;
  service: KmsPluginService;
  log: Logger;
  metrics?: PluginMetrics;
}

export interface KmsServer {
  /** Clears a stale socket file, binds with mode 0600 and starts serving. */
  listen(): Promise<void>;
  /** Stops accepting, lets in-flight calls finish (at most graceMs), removes the socket file. */
  close(graceMs?: number): Promise<void>;
}

export type KmsTransport = 'http2' | 'grpc-js';

export async function createKmsServer(transport: KmsTransport, o: KmsServerOptions): Promise<KmsServer> {
  if (transport === 'grpc-js') return new (await import('./grpc-server.ts')).KmsGrpcServer(o);
  return new (await import('./h2-server.ts')).KmsH2Server(o);
}
