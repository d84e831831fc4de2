/**
 * The plugin's RPCs as transport-independent unary handlers, keyed by full gRPC method path, with
 * the protobuf codecs from the .proto files. Both transports (grpc-js and the thin node:http2 one)
 * serve exactly this table, so they cannot drift apart.
 */
import { type ArcaError, GRPC_STATUS, toArcaError } from '../errors/index.ts';
import { type GrpcFailure, kmsMethod } from '../grpc/index.ts';
import type { Logger } from '../log/index.ts';
import type { PluginMetrics } from './metrics.ts';
import type { KmsPluginService } from './service.ts';

export const RUNTIME_NAME = 'arca-kms-plugin';
export const RUNTIME_VERSION = '0.1.0';
/** Requests are a few hundred bytes; anything near this is garbage. */
export const MAX_MESSAGE = 64 * 1024;

type Req = Record<string, unknown>;

export interface UnaryHandler {
  /** e.g. `v2.Decrypt`, for metrics and logs */
  rpc: string;
  /** `/v2.KeyManagementService/Decrypt` */
  path: string;
  decode(bytes: Buffer): Req;
  encode(res: object): Buffer;
  /** Returns the response, or throws / rejects with any error (mapped by `grpcFailure`). */
  call(req: Req): object | Promise<object>;
  /** Cheap and latency-critical (Status, Version): transports should not queue it behind others. */
  urgent: boolean;
}

export type { GrpcFailure } from '../grpc/index.ts';

/** `<ERR_CODE>: <what to fix>`, and the status from the GRPC_STATUS table. */
export function grpcFailure(e: ArcaError): GrpcFailure {
  return { code: GRPC_STATUS[e.code], message: `${e.code}: ${e.expose ? e.message : 'internal error'}` };
}

function bytesField(req: Req, name: string): Uint8Array {
  const v = req[name];
  return v instanceof Uint8Array ? v : new Uint8Array(0);
}

function stringField(req: Req, name: string): string {
  const v = req[name];
  return typeof v === 'string' ? v : '';
}

export function buildHandlers(s: KmsPluginService): Map<string, UnaryHandler> {
  const table: Record<'v2' | 'v1beta1', Record<string, UnaryHandler['call']>> = {
    v2: {
      Status: () => {
        const st = s.status();
        return { version: st.version, healthz: st.healthz, key_id: st.keyId };
      },
      Encrypt: (req) => {
        const r = s.encrypt(bytesField(req, 'plaintext'));
        return { ciphertext: r.ciphertext, key_id: r.keyId, annotations: {} };
      },
      Decrypt: (req) => {
        const r = s.decrypt(bytesField(req, 'ciphertext'), stringField(req, 'key_id'));
        return r instanceof Promise ? r.then((plaintext) => ({ plaintext })) : { plaintext: r };
      },
    },
    v1beta1: {
      Version: () => ({ version: 'v1beta1', runtime_name: RUNTIME_NAME, runtime_version: RUNTIME_VERSION }),
      Encrypt: (req) => ({ cipher: s.encrypt(bytesField(req, 'plain')).ciphertext }),
      Decrypt: (req) => {
        const r = s.decrypt(bytesField(req, 'cipher'), undefined);
        return r instanceof Promise ? r.then((plain) => ({ plain })) : { plain: r };
      },
    },
  };
  const out = new Map<string, UnaryHandler>();
  for (const api of ['v2', 'v1beta1'] as const) {
    for (const [name, call] of Object.entries(table[api])) {
      const m = kmsMethod(api, name);
      out.set(m.path, {
        rpc: `${api}.${name}`,
        path: m.path,
        decode: (b) => m.requestDeserialize(b) as Req,
        encode: (r) => m.responseSerialize(r),
        call,
        urgent: name === 'Status' || name === 'Version',
      });
    }
  }
  return out;
}

/**
 * Runs a handler with metrics and logging; calls `ok` or `fail` exactly once. Synchronous handlers
 * (Status, Encrypt) answer without a promise hop.
 */
export function runUnary(
  h: UnaryHandler,
  req: Req,
  ok: (res: object) => void,
  fail: (f: GrpcFailure) => void,
  log: Logger,
  metrics?: PluginMetrics,
): void {
  const done = metrics ? metrics.observe(h.rpc) : undefined;
  const onError = (err: unknown) => {
    const e = toArcaError(err);
    done?.(e.code);
    if (e.code === 'ERR_INTERNAL') log.error({ rpc: h.rpc, err: e.cause }, 'kms rpc failed');
    else log.debug({ rpc: h.rpc, code: e.code, reason: e.message }, 'kms rpc refused');
    fail(grpcFailure(e));
  };
  let r: object | Promise<object>;
  try {
    r = h.call(req);
  } catch (err) {
    onError(err);
    return;
  }
  if (r instanceof Promise) {
    r.then((res) => {
      done?.();
      ok(res);
    }, onError);
  } else {
    done?.();
    ok(r);
  }
}
