/**
 * `v1alpha1.CSIDriverProvider` over a unix socket with the thin unary gRPC server of src/grpc (the
 * one the KMS plugin uses; plaintext: the socket's file mode is the only protection, so it is
 * created 0600 and a stale socket is cleared first). It replaced @grpc/grpc-js here for speed
 * (figures in docs/csi-provider.md); the conformance tests still dial it with a grpc-js client.
 *
 * A failed Mount is an OK gRPC reply whose `error.code` is the Arca error code: the driver fails
 * the mount and uses the code as a metric label. The message (which names the object and the
 * reason, never a value) goes to the provider's log and to the `arca-error-message` trailer.
 */
import { type ArcaError, toArcaError } from '../../errors/index.ts';
import { H2UnaryServer, type UnaryMethod } from '../../grpc/index.ts';
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
  readonly #server: H2UnaryServer;
  readonly #o: CsiServerOptions;

  constructor(o: CsiServerOptions) {
    this.#o = o;
    const def = csiServiceDefinition();
    const method = (name: 'Version' | 'Mount', urgent: boolean, run: UnaryMethod['run']): [string, UnaryMethod] => {
      const m = def[name]!;
      return [m.path, { decode: (b) => m.requestDeserialize(b) as Record<string, unknown>, encode: (r) => m.responseSerialize(r), urgent, run }];
    };
    const methods = new Map<string, UnaryMethod>([
      method('Version', true, (_req, ok) => {
        o.metrics?.version();
        ok({ version: API_VERSION, runtime_name: RUNTIME_NAME, runtime_version: RUNTIME_VERSION } satisfies VersionResponse);
      }),
      method('Mount', false, (req, ok) => {
        this.#mount(req as unknown as MountRequest).then(({ res, trailers }) => ok(res, trailers));
      }),
    ]);
    this.#server = new H2UnaryServer({ socketPath: o.socketPath, methods, maxMessage: MAX_MESSAGE });
  }

  async #mount(req: MountRequest): Promise<{ res: MountResponse; trailers?: Record<string, string> }> {
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
      const trailers = { [ERROR_MESSAGE_TRAILER]: message.replace(/[^\x20-\x7e]/g, '?') };
      return { res: { object_version: [], files: [], error: { code: e.code } }, trailers };
    }
  }

  listen(): Promise<void> {
    return this.#server.listen();
  }

  /** Stops accepting, lets in-flight Mounts finish (at most graceMs), removes the socket file. */
  async close(graceMs = 10_000): Promise<void> {
    await this.#server.close(graceMs);
    this.#o.clients.closeAll();
  }
}
