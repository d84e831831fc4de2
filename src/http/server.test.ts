/**
 * The HTTP adapter on a real core (in-memory storage, real engines): error shapes for parser and
 * routing failures, sys/seal and sys/metrics through the core's pipeline, 5xx logging, metric labels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { type AuditRecord, type AuditSink, Core, createSystemEngine, createTokenEngine, type EngineRegistry } from '../core/index.ts';
import { createKvEngine } from '../engines/kv/index.ts';
import { ArcaError } from '../errors/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { buildHttpServer } from './server.ts';

/** Real in-memory storage with a switch that makes every write fail as an unreachable backend does. */
class FlakyStorage extends InmemStorage {
  failing = false;
  #down(): ArcaError {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
    return new ArcaError('ERR_STORAGE_UNAVAILABLE', 'storage backend unreachable', { cause });
  }
  override async put(key: string, value: Uint8Array): Promise<void> {
    if (this.failing) throw this.#down();
    return super.put(key, value);
  }
  override async commit(ops: Parameters<InmemStorage['commit']>[0]): Promise<boolean> {
    if (this.failing) throw this.#down();
    return super.commit(ops);
  }
}

type Entry = { kind: 'request' | 'response'; path: string; status?: number; error?: string };

interface Fixture {
  app: FastifyInstance;
  core: Core;
  storage: FlakyStorage;
  root: string;
  audit: Entry[];
  logs: string[];
  stepDowns: number;
}

async function start(): Promise<Fixture> {
  const storage = new FlakyStorage();
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(s) });
  const audit: Entry[] = [];
  const sink: AuditSink = {
    request: async (e: AuditRecord) => void audit.push({ kind: 'request', path: e.req.path }),
    response: async (e) => void audit.push({ kind: 'response', path: e.req.path, status: e.status, ...(e.error ? { error: e.error } : {}) }),
  };
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, core) => createSystemEngine(core, []));
  engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
  engines.set('kv', (ctx, o) => createKvEngine(ctx, o));
  const core = new Core({ raw: storage, log, storageType: 'inmem', engines, audit: sink, defaultMounts: [{ path: 'secret/', type: 'kv', options: { version: '2' } }] });
  await core.start();
  const init = await core.init({ secretShares: 1, secretThreshold: 1, recoveryShares: 1, recoveryThreshold: 1 });
  await core.submitUnsealKey(init.keys[0]);
  const f: Fixture = { app: undefined as unknown as FastifyInstance, core, storage, root: init.rootToken, audit, logs, stepDowns: 0 };
  f.app = buildHttpServer({ core, log, stepDown: async () => void f.stepDowns++ });
  await f.app.ready();
  return f;
}

const errorShape = (body: string) => {
  const b = JSON.parse(body) as { errors: unknown; error: { code: string; message: string; requestId: string } };
  assert.ok(Array.isArray(b.errors), body);
  assert.equal(typeof b.error.code, 'string');
  assert.equal(typeof b.error.message, 'string');
  assert.equal(typeof b.error.requestId, 'string');
  return b.error;
};

describe('HTTP adapter on a real core', () => {
  let f: Fixture;
  before(async () => {
    f = await start();
  });
  after(async () => {
    await f.app.close();
  });

  it('answers parser and routing failures in the one error shape with Content-Type application/json exactly', async () => {
    const cases = [
      { req: { method: 'GET' as const, url: '/v1/%zz' }, status: 400 },
      { req: { method: 'GET' as const, url: '/nope' }, status: 404 },
      { req: { method: 'OPTIONS' as const, url: '/v1/secret/data/a' }, status: 404 },
      { req: { method: 'PATCH' as const, url: '/v1/secret/data/a', headers: { 'x-vault-token': f.root, 'content-type': 'application/json' }, payload: '{}' }, status: 415 },
      { req: { method: 'PUT' as const, url: '/v1/secret/data/a', headers: { 'x-vault-token': f.root }, payload: '{"data":' }, status: 400 },
      { req: { method: 'GET' as const, url: '/v1/secret/data/none', headers: { 'x-vault-token': f.root } }, status: 404 },
    ];
    for (const c of cases) {
      const r = await f.app.inject(c.req);
      assert.equal(r.statusCode, c.status, `${c.req.method} ${c.req.url}: ${r.body}`);
      assert.equal(r.headers['content-type'], 'application/json', `${c.req.method} ${c.req.url}`);
      errorShape(r.body);
    }
  });

  it('answers a body over the limit with 413 in the error shape', async () => {
    const r = await f.app.inject({ method: 'PUT', url: '/v1/secret/data/big', headers: { 'x-vault-token': f.root }, payload: Buffer.alloc(33 * 1024 * 1024, 0x20) });
    assert.equal(r.statusCode, 413);
    assert.equal(errorShape(r.body).code, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('refuses 5,000-deep JSON with 400 and reads an empty Content-Type header as none', async () => {
    const deep = `{"data":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const r = await f.app.inject({ method: 'PUT', url: '/v1/secret/data/deep', headers: { 'x-vault-token': f.root, 'content-type': 'application/json' }, payload: deep });
    assert.equal(r.statusCode, 400);
    assert.equal(errorShape(r.body).code, 'ERR_INVALID_REQUEST');
    const e = await f.app.inject({ method: 'PUT', url: '/v1/secret/data/ct', headers: { 'x-vault-token': f.root, 'content-type': '' }, payload: '{"data":{"a":"1"}}' });
    assert.equal(e.statusCode, 200, e.body);
  });

  it('names the mounts in the error for an unmounted path, and says how to send a token when none was', async () => {
    const r = await f.app.inject({ method: 'GET', url: '/v1/foo/bar', headers: { 'x-vault-token': f.root } });
    assert.equal(r.statusCode, 404);
    const e = errorShape(r.body);
    assert.equal(e.code, 'ERR_NOT_FOUND');
    assert.match(e.message, /mounted paths are auth\/token\/, secret\/, sys\//);
    const n = await f.app.inject({ method: 'GET', url: '/v1/secret/data/a' });
    assert.equal(n.statusCode, 403);
    const ne = errorShape(n.body);
    assert.equal(ne.code, 'ERR_PERMISSION_DENIED');
    assert.match(ne.message, /ARCA_TOKEN/);
  });

  it('serves sys/metrics through the core: a token is needed and the request is audited', async () => {
    assert.equal((await f.app.inject({ method: 'GET', url: '/v1/sys/metrics' })).statusCode, 403);
    f.audit.length = 0;
    const r = await f.app.inject({ method: 'GET', url: '/v1/sys/metrics?format=prometheus', headers: { 'x-vault-token': f.root } });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /vault_http_requests_total/);
    // The audit broker's health counters are served on the same endpoint.
    assert.match(r.body, /# TYPE arca_audit_checkpoint_failures_total counter/);
    assert.match(r.body, /# TYPE arca_audit_chain_restarts_total counter/);
    assert.deepEqual(f.audit.map((a) => `${a.kind} ${a.path} ${a.status ?? ''}`), ['request sys/metrics ', 'response sys/metrics 200']);
    const j = await f.app.inject({ method: 'GET', url: '/v1/sys/metrics', headers: { 'x-vault-token': f.root } });
    assert.ok(Array.isArray(JSON.parse(j.body)));
  });

  it('labels metrics only by known mounts: 20,000 unknown paths add one label value (issue 12 item 6)', async () => {
    for (let i = 0; i < 20_000; i++) await f.app.inject({ method: 'GET', url: `/v1/p${i}/x` });
    const r = await f.app.inject({ method: 'GET', url: '/v1/sys/metrics?format=prometheus', headers: { 'x-vault-token': f.root } });
    const mounts = new Set([...r.body.matchAll(/mount="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...mounts].sort(), ['secret', 'sys', 'unknown']);
    assert.ok(r.body.length < 64 * 1024, `metrics body is ${r.body.length} bytes`);
  });

  it('logs a 5xx with its code and cause chain, and audits its real status (issue 12 item 14)', async () => {
    f.logs.length = 0;
    f.audit.length = 0;
    f.storage.failing = true;
    try {
      const r = await f.app.inject({ method: 'PUT', url: '/v1/secret/data/down', headers: { 'x-vault-token': f.root }, payload: '{"data":{"password":"s3cr3t-value"}}' });
      assert.equal(r.statusCode, 503);
      const e = errorShape(r.body);
      assert.equal(e.code, 'ERR_STORAGE_UNAVAILABLE');
      const line = f.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['requestId'] === e.requestId && l['code'] === 'ERR_STORAGE_UNAVAILABLE');
      assert.ok(line, f.logs.join(''));
      assert.deepEqual(line['causes'], [{ name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }]);
      assert.equal(line['level'], 50);
      assert.equal(f.logs.join('').includes('s3cr3t-value'), false);
      assert.equal(f.audit.find((a) => a.kind === 'response')?.status, 503);
    } finally {
      f.storage.failing = false;
    }
  });

  it('serves sys/step-down through the core: refused without sudo, audited, then steps down', async () => {
    const child = await f.app.inject({ method: 'POST', url: '/v1/auth/token/create', headers: { 'x-vault-token': f.root }, payload: '{"policies":["default"]}' });
    const token = (JSON.parse(child.body) as { auth: { client_token: string } }).auth.client_token;
    assert.equal((await f.app.inject({ method: 'PUT', url: '/v1/sys/step-down', headers: { 'x-vault-token': token } })).statusCode, 403);
    assert.equal(f.stepDowns, 0);
    f.audit.length = 0;
    const r = await f.app.inject({ method: 'PUT', url: '/v1/sys/step-down', headers: { 'x-vault-token': f.root } });
    assert.equal(r.statusCode, 204);
    assert.equal(f.stepDowns, 1);
    assert.deepEqual(f.audit.map((a) => `${a.kind} ${a.path} ${a.status ?? ''}`), ['request sys/step-down ', 'response sys/step-down 204']);
  });

  it('serves sys/seal through the core: refused without sudo, audited request and response, then sealed', async () => {
    const child = await f.app.inject({ method: 'POST', url: '/v1/auth/token/create', headers: { 'x-vault-token': f.root }, payload: '{"policies":["default"]}' });
    const token = (JSON.parse(child.body) as { auth: { client_token: string } }).auth.client_token;
    f.audit.length = 0;
    const refused = await f.app.inject({ method: 'PUT', url: '/v1/sys/seal', headers: { 'x-vault-token': token } });
    assert.equal(refused.statusCode, 403);
    assert.equal(errorShape(refused.body).code, 'ERR_PERMISSION_DENIED');
    assert.deepEqual(f.audit.map((a) => `${a.kind} ${a.path} ${a.status ?? ''}`), ['response sys/seal 403']);
    assert.equal(f.core.state, 'unsealed');
    f.audit.length = 0;
    const r = await f.app.inject({ method: 'PUT', url: '/v1/sys/seal', headers: { 'x-vault-token': f.root } });
    assert.equal(r.statusCode, 204);
    assert.deepEqual(f.audit.map((a) => `${a.kind} ${a.path} ${a.status ?? ''}`), ['request sys/seal ', 'response sys/seal 204']);
    assert.equal(f.core.state, 'sealed');
  });
});
