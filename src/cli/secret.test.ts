import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createKvEngine } from '../engines/kv/index.ts';
import type { Operation } from '../engines/index.ts';
import { HTTP_STATUS, isArcaError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { tempDir } from '../../test/harness/index.ts';

const run = promisify(execFile);
const ARCA = join(import.meta.dirname, '..', '..', 'bin', 'arca');
const TOKEN = 'cli-test-token';

/**
 * The real KV engine behind a thin HTTP shim speaking the Vault wire shapes the CLI relies on
 * (the full server lives elsewhere; this keeps the CLI test independent of it).
 */
function kvServer(): Server {
  const engine = createKvEngine({ storage: new InmemStorage(), log: silentLogger(), now: Date.now, isActive: () => true }, { version: '2' });
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (req.headers['x-vault-token'] !== TOKEN) return send(403, { errors: ['permission denied'] });
      const url = new URL(req.url ?? '/', 'http://x');
      const path = decodeURIComponent(url.pathname.replace(/^\/v1\/secret\//, ''));
      const query = Object.fromEntries(url.searchParams);
      const list = query['list'] === 'true';
      delete query['list'];
      const op: Operation = list ? 'list' : ({ GET: 'read', DELETE: 'delete', PATCH: 'patch' } as Record<string, Operation>)[req.method ?? ''] ?? 'update';
      const data = op === 'read' || op === 'list' || op === 'delete' ? query : chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      try {
        const r = await engine.handle({ id: 'r', operation: op, path, mountPoint: 'secret/', data, auth: undefined, clientAddr: '', can: () => true });
        if (!r) return send(204);
        send(r.status ?? 200, { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: r.data ?? null, wrap_info: null, warnings: r.warnings ?? null, auth: null });
      } catch (err) {
        if (!isArcaError(err)) return send(500, { errors: ['internal error'] });
        send(HTTP_STATUS[err.code], { errors: err.message ? [err.message] : [], error: { code: err.code, message: err.message } });
      }
    });
  });
}

describe('arca secret (CLI)', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = kvServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = { ...process.env, ARCA_ADDR: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ARCA_TOKEN: TOKEN };
  });
  after(() => server.close());

  const arca = async (...args: string[]) => {
    try {
      const r = await run(ARCA, ['secret', ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('puts k=v pairs and a JSON file, then gets a field, a version, and JSON output', async () => {
    assert.equal((await arca('put', 'secret/app/db', 'user=app', 'password=s3cr3t')).code, 0);
    const dir = await tempDir();
    const file = join(dir.path, 'v.json');
    writeFileSync(file, JSON.stringify({ user: 'app', password: 'n3w', port: 5432 }));
    assert.equal((await arca('put', 'secret/app/db', `@${file}`, '--cas', '1')).code, 0);
    await dir.remove();
    assert.equal((await arca('get', 'secret/app/db', '-field', 'password')).stdout, 'n3w\n');
    assert.equal((await arca('get', 'secret/app/db', '--version', '1', '--field', 'password')).stdout, 's3cr3t\n');
    const j = JSON.parse((await arca('get', 'secret/app/db', '-o', 'json')).stdout);
    assert.equal(j.metadata.version, 2);
    assert.equal(j.data.port, 5432);
    // A stale cas is refused by the server: runtime error, exit 2.
    const stale = await arca('put', 'secret/app/db', 'x=y', '--cas', '1');
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /ERR_INVALID_REQUEST/);
  });

  it('lists, deletes, undeletes and destroys versions, and edits metadata', async () => {
    await arca('put', 'secret/team/a', 'k=1');
    await arca('put', 'secret/team/b/c', 'k=2');
    assert.deepEqual(JSON.parse((await arca('list', 'secret/team', '-o', 'json')).stdout).keys, ['a', 'b/']);
    assert.equal((await arca('delete', 'secret/team/a')).code, 0);
    assert.equal((await arca('get', 'secret/team/a')).code, 2);
    assert.equal((await arca('undelete', 'secret/team/a', '--versions', '1')).code, 0);
    assert.equal((await arca('get', 'secret/team/a', '-field', 'k')).stdout, '1\n');
    assert.equal((await arca('destroy', 'secret/team/a', '--versions', '1')).code, 0);
    assert.equal((await arca('metadata', 'put', 'secret/team/a', '--max-versions', '3', '--custom-metadata', 'owner=ops')).code, 0);
    const m = JSON.parse((await arca('metadata', 'get', 'secret/team/a', '-o', 'json')).stdout);
    assert.equal(m.max_versions, 3);
    assert.deepEqual(m.custom_metadata, { owner: 'ops' });
    assert.equal(m.versions['1'].destroyed, true);
    const s = JSON.parse((await arca('search', '--metadata', 'owner=ops', '-o', 'json')).stdout);
    assert.deepEqual(s.keys, ['team/a']);
  });

  it('reports a missing secret and bad usage with distinct exit codes', async () => {
    const missing = await arca('get', 'secret/nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ERR_NOT_FOUND/);
    assert.equal((await arca('put', 'secret/x', 'novalue')).code, 1);
    assert.equal((await arca('destroy', 'secret/x')).code, 1);
  });
});
