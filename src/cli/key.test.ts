import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Operation } from '../engines/index.ts';
import { createTransitEngine } from '../engines/transit/index.ts';
import { HTTP_STATUS, isArcaError } from '../errors/index.ts';
import { SoftwareKeyBackend } from '../keys/index.ts';
import { silentLogger } from '../log/index.ts';
import { InmemStorage } from '../storage/index.ts';

const run = promisify(execFile);
const ARCA = join(import.meta.dirname, '..', '..', 'bin', 'arca');
const TOKEN = 'cli-test-token';

/**
 * The real transit engine behind a thin HTTP shim speaking the Vault wire shapes the CLI relies on
 * (keeps this test independent of the full server).
 */
function transitServer(): Server {
  const engine = createTransitEngine(
    { storage: new InmemStorage(), log: silentLogger(), now: Date.now, isActive: () => true },
    { software: new SoftwareKeyBackend() },
  );
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (req.headers['x-vault-token'] !== TOKEN) return send(403, { errors: ['permission denied'] });
      const url = new URL(req.url ?? '/', 'http://x');
      const path = decodeURIComponent(url.pathname.replace(/^\/v1\/transit\//, ''));
      const query = Object.fromEntries(url.searchParams);
      const list = query['list'] === 'true';
      delete query['list'];
      let op: Operation = list ? 'list' : (({ GET: 'read', DELETE: 'delete' } as Record<string, Operation>)[req.method ?? ''] ?? 'update');
      const data = op === 'read' || op === 'list' || op === 'delete' ? query : chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      const base = { id: 'r', path, mountPoint: 'transit/', data, auth: undefined, clientAddr: '', can: () => true };
      try {
        if (op === 'update' && engine.exists && !(await engine.exists({ ...base, operation: op }))) op = 'create';
        const r = await engine.handle({ ...base, operation: op });
        if (!r) return send(204);
        send(r.status ?? 200, { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: r.data ?? null, wrap_info: null, warnings: r.warnings ?? null, auth: null });
      } catch (err) {
        if (!isArcaError(err)) return send(500, { errors: ['internal error'] });
        send(HTTP_STATUS[err.code], { errors: err.message ? [err.message] : [], error: { code: err.code, message: err.message } });
      }
    });
  });
}

describe('arca key / encrypt / decrypt (CLI)', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = transitServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = { ...process.env, ARCA_ADDR: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ARCA_TOKEN: TOKEN };
  });
  after(() => server.close());

  const arca = (args: string[], input?: string | Buffer) =>
    new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve) => {
      const child = execFile(ARCA, args, { env, encoding: 'buffer' }, (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? 2) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      });
      child.stdin?.end(input ?? '');
    });
  const text = async (args: string[], input?: string | Buffer) => {
    const r = await arca(args, input);
    return { ...r, out: r.stdout.toString() };
  };

  it('creates, lists, shows and rotates keys', async () => {
    assert.equal((await text(['key', 'list'])).out, '');
    assert.equal((await text(['key', 'create', 'orders', '-o', 'json'])).code, 0);
    await text(['key', 'create', 'billing']);
    assert.equal((await text(['key', 'list'])).out, 'billing\norders\n');
    const rotated = JSON.parse((await text(['key', 'rotate', 'orders', '-o', 'json'])).out) as { latest_version: number };
    assert.equal(rotated.latest_version, 2);
    const shown = await text(['key', 'show', 'orders']);
    assert.equal(shown.code, 0);
    assert.match(shown.out, /Version\s+Created\s+Version ID/);
    assert.match(shown.out, /^2\s+\d{4}-\d\d-\d\dT\S+\s+[0-9a-f-]{36}$/m);
  });

  it('encrypts stdin and decrypts back to the same bytes, binary included', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0x80]);
    const enc = await text(['encrypt', '--key', 'files'], bytes);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.out, /^vault:v1:[A-Za-z0-9+/=]+\n$/);
    const dec = await arca(['decrypt', '--key', 'files'], enc.out);
    assert.equal(dec.code, 0, dec.stderr);
    assert.deepEqual(dec.stdout, bytes);
  });

  it('passes a context for derived keys', async () => {
    await text(['key', 'create', 'tenants', '--derived']);
    const enc = await text(['encrypt', '--key', 'tenants', '--context', 'tenant-a'], 'hello');
    assert.equal((await text(['decrypt', '--key', 'tenants', '--context', 'tenant-a'], enc.out)).out, 'hello');
    const wrong = await text(['decrypt', '--key', 'tenants', '--context', 'tenant-b'], enc.out);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /ERR_CRYPTO_DECRYPT/);
  });

  it('configures and deletes keys, with usage errors exiting 1 and server errors 2', async () => {
    await text(['key', 'create', 'temp']);
    const refused = await text(['key', 'delete', 'temp']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ERR_TRANSIT_DELETION_DISALLOWED/);
    assert.equal((await text(['key', 'config', 'temp', '--deletion-allowed', 'true'])).code, 0);
    assert.equal((await text(['key', 'delete', 'temp'])).code, 0);
    assert.equal((await text(['key', 'config', 'temp'])).code, 1);
    assert.equal((await text(['key', 'config', 'orders', '--min-decryption-version', 'x'])).code, 1);
    assert.equal((await text(['key', 'show', 'temp'])).code, 1);
  });
});
