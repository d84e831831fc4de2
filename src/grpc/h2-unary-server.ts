/**
 * A thin unary gRPC server directly on node:http2 (h2c over a unix socket), shared by the KMS
 * plugin and the CSI provider. BENCH.md measured this shape at ~1.5× @grpc/grpc-js for KMS calls.
 *
 * What it implements of gRPC over HTTP/2 (unary only, which is all either API uses):
 *  - requests: POST, `content-type: application/grpc[+proto|;…]` (else HTTP 415), one
 *    length-prefixed message (flag byte 0 = uncompressed, u32 big-endian length); a compressed
 *    message → UNIMPLEMENTED, more than maxMessage → RESOURCE_EXHAUSTED, zero or two messages →
 *    INTERNAL, unparsable protobuf → INTERNAL, unknown method → UNIMPLEMENTED;
 *  - `grpc-timeout` (`<1-8 digits><H|M|S|m|u|n>`): past the deadline the call ends with
 *    DEADLINE_EXCEEDED and a late result is dropped;
 *  - responses: headers `:status 200`, `content-type: application/grpc`, one message, then
 *    trailers `grpc-status` (plus any the method adds) ; errors as trailers-only responses with a
 *    percent-encoded `grpc-message`.
 */
import http2 from 'node:http2';
import { bindPrivate, removeSocket } from './socket.ts';

const S = { OK: 0, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;
const GRPC_CT = 'application/grpc';
const UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

export interface GrpcFailure {
  code: number;
  message: string;
}

/** One unary method: codecs and a call that answers exactly once with `ok` or `fail`. */
export interface UnaryMethod {
  decode(bytes: Buffer): Record<string, unknown>;
  encode(res: object): Buffer;
  /** Cheap and latency-critical (Status, Version): answered at once, not after the I/O batch. */
  urgent: boolean;
  run(req: Record<string, unknown>, ok: (res: object, trailers?: Record<string, string>) => void, fail: (f: GrpcFailure) => void): void;
}

export interface H2UnaryServerOptions {
  socketPath: string;
  /** Full method path (`/v2.KeyManagementService/Decrypt`) → method. */
  methods: ReadonlyMap<string, UnaryMethod>;
  /** Largest request message accepted, in bytes. */
  maxMessage: number;
}

/** grpc-timeout → milliseconds, or undefined when absent or malformed (then: no deadline). */
export function parseGrpcTimeout(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** Percent-encodes a grpc-message: bytes outside 0x20–0x7E, and '%'. */
export function encodeGrpcMessage(msg: string): string {
  let out = '';
  for (const b of Buffer.from(msg, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const noop = () => {};
/**
 * Response options. `sendDate: false` (honoured by node:http2, missing from @types/node) drops the
 * `date` header gRPC does not use; if a Node version ignored it, a date header would merely be sent.
 */
type RespondOptions = http2.ServerStreamResponseOptions & { sendDate?: boolean };
const WITH_TRAILERS: RespondOptions = { waitForTrailers: true, sendDate: false };
const END_NOW: RespondOptions = { endStream: true, sendDate: false };
/** Trailers of every successful call (a fresh headers object is built from it per response). */
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers({ ...OK_TRAILERS });
}

export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

export class H2UnaryServer {
  readonly #o: H2UnaryServerOptions;
  readonly #server: http2.Http2Server;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(o: H2UnaryServerOptions) {
    this.#o = o;
    this.#server = http2.createServer({ maxSessionMemory: 64, settings: { maxConcurrentStreams: 1000 } });
    this.#server.on('session', (s) => {
      this.#sessions.add(s);
      s.on('close', () => this.#sessions.delete(s));
      s.on('error', noop);
    });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', noop);
    const ct = headers['content-type'];
    if (headers[':method'] !== 'POST' || typeof ct !== 'string' || !(ct === GRPC_CT || ct.startsWith(`${GRPC_CT}+`) || ct.startsWith(`${GRPC_CT};`))) {
      stream.respond({ ':status': 415 }, END_NOW);
      return;
    }
    const h = this.#o.methods.get(headers[':path'] ?? '');
    if (!h) {
      stream.resume();
      this.#fail(stream, { code: S.UNIMPLEMENTED, message: `unknown method ${String(headers[':path'])}` });
      return;
    }
    const max = this.#o.maxMessage;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      finished = true;
      if (timer) clearTimeout(timer);
    };
    const timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      if (finished) return;
      size += c.length;
      if (size > max + 5) {
        finish();
        this.#fail(stream, { code: S.RESOURCE_EXHAUSTED, message: `request larger than ${max} bytes` });
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => {
      if (finished) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const bad = (f: GrpcFailure) => {
        finish();
        this.#fail(stream, f);
      };
      if (body.length < 5) return bad({ code: S.INTERNAL, message: 'request has no message' });
      if (body[0] !== 0) return bad({ code: S.UNIMPLEMENTED, message: 'compressed messages are not supported' });
      const len = body.readUInt32BE(1);
      if (len > max) return bad({ code: S.RESOURCE_EXHAUSTED, message: `request larger than ${max} bytes` });
      if (body.length !== 5 + len) return bad({ code: S.INTERNAL, message: 'a unary call carries exactly one message' });
      let req: Record<string, unknown>;
      try {
        req = h.decode(body.subarray(5));
      } catch {
        return bad({ code: S.INTERNAL, message: 'cannot parse the request message' });
      }
      const run = () => {
        h.run(
          req,
          (res, trailers) => {
            if (finished) return;
            finish();
            this.#reply(stream, h.encode(res), trailers);
          },
          (f) => {
            if (finished) return;
            finish();
            this.#fail(stream, f);
          },
        );
        // Many calls answer synchronously; a timer is armed only for those still waiting.
        if (!finished && deadline !== undefined) {
          timer = setTimeout(() => {
            if (finished) return;
            finish();
            this.#fail(stream, { code: S.DEADLINE_EXCEEDED, message: 'deadline exceeded' });
          }, Math.max(0, deadline - Date.now()));
        }
      };
      // Urgent calls answer at once; the others run after the current I/O batch, so a Status
      // arriving on another connection is not queued behind a burst of heavier calls.
      if (h.urgent) run();
      else setImmediate(run);
    });
  }

  #reply(stream: http2.ServerHttp2Stream, msg: Buffer, trailers: Record<string, string> | undefined): void {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': 200, 'content-type': GRPC_CT }, WITH_TRAILERS);
    if (trailers) stream.once('wantTrailers', () => stream.sendTrailers({ ...trailers, ...OK_TRAILERS }));
    else stream.once('wantTrailers', sendOkTrailers);
    stream.end(frame(msg));
  }

  #fail(stream: http2.ServerHttp2Stream, f: GrpcFailure): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond(
      { ':status': 200, 'content-type': GRPC_CT, 'grpc-status': String(f.code), 'grpc-message': encodeGrpcMessage(f.message) },
      END_NOW,
    );
  }

  /** Clears a stale socket file, binds with mode 0600 and starts serving. */
  async listen(): Promise<void> {
    const path = this.#o.socketPath;
    await bindPrivate(
      path,
      () =>
        new Promise<void>((resolve, reject) => {
          this.#server.once('error', reject);
          this.#server.listen(path, () => {
            this.#server.off('error', reject);
            resolve();
          });
        }),
    );
  }

  /** Stops accepting, sends GOAWAY, lets in-flight calls finish (at most graceMs), removes the socket. */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sessions) s.close();
    const t = setTimeout(() => {
      for (const s of this.#sessions) s.destroy();
    }, graceMs);
    await closed;
    clearTimeout(t);
    removeSocket(this.#o.socketPath);
  }
}
