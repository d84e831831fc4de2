/**
 * `v1alpha1.CSIDriverProvider` over a unix socket with @grpc/grpc-js (plaintext: the socket's
 * file mode is the only protection, so it is created 0600 and a stale socket is cleared first).
 *
 * A failed Mount is an OK gRPC reply whose `error.code` is the Arca error code: the driver fails
 * the mount and uses the code as a metric label. The message (which names the object and the
 * reason, never a value) goes to the provider's log and to the `arca-error-message` trailer.
 */
import * as grpc from '@grpc/grpc-js';
import { type ArcaError, toArcaError } from '../../errors/index.ts';
// The KMS plugin's socket helpers (stale-socket check, 0600 bind); importing its index would load
// the whole plugin. TODO(issue 17): move socket.ts to a shared place (src/grpc/) for both.
import { bindPrivate, clearStaleSocket, removeSocket } from '../../kms-plugin/socket.ts';
import type { Logger } from '../../log/index.ts';
import type { CsiMetrics } from './metrics.ts';
import { type MountDeps, mount } from './mount.ts';
import { csiServiceDefinition, type MountRequest, type MountResponse, type VersionResponse } from './proto.ts';

export const RUNTIME_NAME = 'arca-csi-provider';
export const RUNTIME_VERSION = '0.1.0';
export const API_VERSION = 'v1alpha1';
/** The driver's default receive limit; requests are far smaller, responses are capped in mount.ts. */
const MAX_MESSAGE = 4 * 1024 * 1024 + 64 * 1024;
export const ERROR_MESSAGE_TRAILER = 'arca-error-message';

export interface CsiServerOptions extends Omit<MountDeps, 'onOverSyncLimit'> {
  socketPath: string;
  metrics?: CsiMetrics;
}

export class CsiProviderServer {
  readonly #server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  readonly #o: CsiServerOptions;

  constructor(o: CsiServerOptions) {
    this.#o = o;
    this.#server.addService(csiServiceDefinition(), {
      Version: (_call: grpc.ServerUnaryCall<unknown, VersionResponse>, cb: grpc.sendUnaryData<VersionResponse>) => {
        o.metrics?.version();
        cb(null, { version: API_VERSION, runtime_name: RUNTIME_NAME, runtime_version: RUNTIME_VERSION });
      },
      Mount: (call: grpc.ServerUnaryCall<MountRequest, MountResponse>, cb: grpc.sendUnaryData<MountResponse>) => {
        this.#mount(call.request).then(({ res, trailer }) => cb(null, res, trailer));
      },
    });
  }

  async #mount(req: MountRequest): Promise<{ res: MountResponse; trailer?: grpc.Metadata }> {
    const { log, metrics } = this.#o;
    const done = metrics?.mount();
    try {
      const deps: MountDeps = { ...this.#o, ...(metrics ? { onOverSyncLimit: () => metrics.overSyncLimit() } : {}) };
      const { response, cfg } = await mount(req, deps);
      done?.('ok');
      log.info({ pod: cfg.pod.name, namespace: cfg.pod.namespace, role: cfg.roleName, objects: response.files.length }, 'mounted');
      return { res: response };
    } catch (err) {
      const e: ArcaError = toArcaError(err);
      done?.(e.code);
      const message = e.expose ? e.message : 'internal error';
      // The cause of an internal error is logged by type only: it may carry request material.
      log.warn({ code: e.code, reason: message, ...(e.expose ? {} : { causeType: (e.cause as Error | undefined)?.name }) }, 'mount failed');
      const trailer = new grpc.Metadata();
      trailer.set(ERROR_MESSAGE_TRAILER, message.replace(/[^\x20-\x7e]/g, '?'));
      return { res: { object_version: [], files: [], error: { code: e.code } }, trailer };
    }
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

  /** Stops accepting, lets in-flight Mounts finish (at most graceMs), removes the socket file. */
  async close(graceMs = 10_000): Promise<void> {
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
    this.#o.clients.closeAll();
  }
}
