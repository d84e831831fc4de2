import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { randomKey, seal } from '../crypto/index.ts';
import { kmsMethod } from '../grpc/index.ts';
import { silentLogger } from '../log/index.ts';
import { tempDir } from '../../test/harness/index.ts';
import { encodeHeader } from './ciphertext.ts';
import { encodeGrpcMessage, frame, KmsH2Server, parseGrpcTimeout } from './h2-server.ts';
import { KmsPluginService } from './service.ts';
import { KmsTestClient, MemoryKeySource as MemorySource, rejectsWith } from './testing.ts';

interface RawResult {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function raw(socket: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let res: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (res = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status: Number(res[':status']), headers: res, trailers, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** grpc-status of a response, from trailers or (trailers-only) headers. */
function grpcStatus(r: RawResult): number {
  return Number(r.trailers['grpc-status'] ?? r.headers['grpc-status']);
}

describe('thin http2 gRPC transport', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let source: MemorySource;
  let service: KmsPluginService;
  let server: KmsH2Server;
  let socket: string;

  before(async () => {
    dir = await tempDir('arca-h2-');
    socket = `${dir.path}/kms.sock`;
    source = new MemorySource();
    service = new KmsPluginService(source, { healthIntervalMs: 60_000, cacheSize: 100, cacheTtlMs: 60_000, log: silentLogger() });
    await service.start();
    server = new KmsH2Server({ socketPath: socket, service, log: silentLogger() });
    await server.listen();
  });
  after(async () => {
    await server.close();
    await service.stop();
    await dir.remove();
  });

  it('serves a grpc-js client: Status, round trip, coded errors in grpc-message', async () => {
    const c = new KmsTestClient(socket);
    try {
      assert.deepEqual(await c.status(), { version: 'v2', healthz: 'ok', key_id: 'mem-1' });
      const seed = randomBytes(32);
      const r = await c.encrypt(seed);
      assert.deepEqual(await c.decrypt(r.ciphertext, r.key_id), seed);
      await rejectsWith(c.decrypt(r.ciphertext, 'other'), grpc.status.INVALID_ARGUMENT, 'ERR_KMS_KEY_ID_UNKNOWN');
      await rejectsWith(c.call('v2', 'Encrypt', { plaintext: Buffer.alloc(0) }), grpc.status.INVALID_ARGUMENT, 'ERR_PAYLOAD_TOO_LARGE');
    } finally {
      c.close();
    }
  });

  it('answers a plain (non-gRPC) request with HTTP 415', async () => {
    const r = await raw(socket, '/v2.KeyManagementService/Status', Buffer.alloc(0), { 'content-type': 'application/json' });
    assert.equal(r.status, 415);
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    const r = await raw(socket, '/v2.KeyManagementService/Nope', frame(Buffer.alloc(0)));
    assert.equal(r.status, 200);
    assert.equal(grpcStatus(r), grpc.status.UNIMPLEMENTED);
  });

  it('refuses compressed, missing, doubled, truncated, oversized and unparsable messages with the right status', async () => {
    const path = '/v2.KeyManagementService/Status';
    const compressed = frame(Buffer.alloc(0));
    compressed[0] = 1;
    assert.equal(grpcStatus(await raw(socket, path, compressed)), grpc.status.UNIMPLEMENTED);
    assert.equal(grpcStatus(await raw(socket, path, Buffer.alloc(0))), grpc.status.INTERNAL);
    assert.equal(grpcStatus(await raw(socket, path, Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(0))]))), grpc.status.INTERNAL);
    assert.equal(grpcStatus(await raw(socket, path, frame(Buffer.alloc(10)).subarray(0, 8))), grpc.status.INTERNAL);
    const big = Buffer.alloc(5);
    big.writeUInt32BE(1 << 20, 1);
    assert.equal(grpcStatus(await raw(socket, path, big)), grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(grpcStatus(await raw(socket, path, frame(randomBytes(70 * 1024)))), grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(grpcStatus(await raw(socket, '/v2.KeyManagementService/Decrypt', frame(Buffer.from([0x0a, 0xff])))), grpc.status.INTERNAL);
  });

  it('sends the response message and grpc-status 0 in trailers', async () => {
    const r = await raw(socket, '/v2.KeyManagementService/Status', frame(Buffer.alloc(0)));
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.equal(grpcStatus(r), 0);
    assert.equal(r.body[0], 0);
    const msg = r.body.subarray(5);
    assert.equal(r.body.readUInt32BE(1), msg.length);
    const res = kmsMethod('v2', 'Status').responseDeserialize(msg) as Record<string, unknown>;
    assert.equal(res['healthz'], 'ok');
  });

  it('honours grpc-timeout: a Decrypt stuck in the key source ends with DEADLINE_EXCEEDED', async () => {
    // A ciphertext under a local KEK the service has not seen: Decrypt must ask the source, which
    // is held and never answers while the call is open: only the deadline can end the call.
    const kek = randomKey();
    const { keyId, wrapped } = await source.wrap(kek);
    const header = encodeHeader(keyId, wrapped);
    const ct = Buffer.concat([header, seal(kek, randomBytes(32), header)]);
    const req = kmsMethod('v2', 'Decrypt').requestSerialize({ ciphertext: ct, key_id: keyId, uid: 'u' });
    let release!: () => void;
    source.unwrapGate = new Promise((r) => (release = r));
    const started = source.unwrapsStarted;
    try {
      const r = await raw(socket, '/v2.KeyManagementService/Decrypt', frame(req), { 'grpc-timeout': '200m' });
      assert.equal(grpcStatus(r), grpc.status.DEADLINE_EXCEEDED);
      assert.equal(source.unwrapsStarted, started + 1, 'the call was waiting on the source');
    } finally {
      release();
      source.unwrapGate = undefined;
    }
  });

  it('answers arbitrary request bodies with a gRPC status and keeps serving', async () => {
    const paths = ['/v2.KeyManagementService/Decrypt', '/v2.KeyManagementService/Encrypt', '/v1beta1.KeyManagementService/Decrypt'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (path, bytes, framed) => {
        const r = await raw(socket, path, framed ? frame(Buffer.from(bytes)) : Buffer.from(bytes));
        assert.equal(r.status, 200);
        assert.ok(Number.isInteger(grpcStatus(r)));
      }),
      { numRuns: 60 },
    );
    const c = new KmsTestClient(socket);
    assert.equal((await c.status()).healthz, 'ok');
    c.close();
  });

  it('parses grpc-timeout units and percent-encodes grpc-message', () => {
    assert.equal(parseGrpcTimeout('3S'), 3000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('5000u'), 5);
    assert.equal(parseGrpcTimeout('123456789S'), undefined);
    assert.equal(parseGrpcTimeout('3s'), undefined);
    assert.equal(encodeGrpcMessage('ok 100%'), 'ok 100%25');
    assert.equal(encodeGrpcMessage('é\n'), '%C3%A9%0A');
  });
});

