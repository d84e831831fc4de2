/**
 * The benchmark's own tools, against real parts: wrk (a separate process) must send the request the
 * figure claims (method, body, token header from its Lua script) and a figure must fail rather than
 * count error answers; the .cpuprofile reader must attribute sample time as V8 records it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { summarise } from '../../bench/lib/cpuprofile.ts';
import { luaScript, parseWrk, wrk } from '../../bench/lib/wrk.ts';
import { tempDir } from '../harness/index.ts';

describe('bench tools', () => {
  const seen: { method: string; token: string | undefined; body: string; type: string | undefined }[] = [];
  let status = 200;
  let port = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (seen.length < 5) seen.push({ method: req.method ?? '', token: req.headers['x-vault-token'] as string | undefined, body: Buffer.concat(chunks).toString(), type: req.headers['content-type'] });
      res.writeHead(status, { 'content-length': 2 });
      res.end('{}');
    });
  });
  before(async () => {
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    port = (srv.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => srv.close(() => r())));

  it('wrk sends the scripted POST with its token header and reports a rate and latencies', async () => {
    // A body with Lua's long-bracket closer in it must still arrive intact.
    const body = JSON.stringify({ plaintext: 'aGk=', odd: ']]x]=]' });
    const r = await wrk({ port, method: 'POST', path: '/v1/transit/encrypt/k', headers: { 'X-Vault-Token': 'tok-1' }, body }, 2, 1);
    assert.ok(r.requests > 0 && r.rps > 0);
    assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms);
    assert.ok(seen.length > 0);
    for (const s of seen) assert.deepEqual(s, { method: 'POST', token: 'tok-1', body, type: 'application/json' });
  });

  it('a run with error answers fails instead of counting them', async () => {
    status = 500;
    try {
      await assert.rejects(wrk({ port, method: 'GET', path: '/' }, 1, 1), /not 2xx/);
    } finally {
      status = 200;
    }
  });

  it('the Lua script keeps header names and values verbatim', () => {
    const s = luaScript({ port: 1, method: 'GET', path: '/', headers: { 'X-Vault-Token': 'a]]b' } });
    // `t[[[k]]]` would be a call in Lua: the index must be spaced.
    assert.match(s, /wrk\.headers\[ \[=*\[X-Vault-Token\]=*\] \] = \[=\[a\]\]b\]=\]/);
  });

  it('parseWrk reads µs/ms/s latencies and refuses socket errors', () => {
    const out = (extra: string) =>
      `Running 1s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  250.00us\n     75%  1.00ms\n     90%  2.00ms\n     99%    1.50s\n  1000 requests in 1.00s, 1.00MB read\n${extra}Requests/sec:   1000.00\n`;
    assert.deepEqual(parseWrk(out('')), { rps: 1000, requests: 1000, p50Ms: 0.25, p99Ms: 1500 });
    assert.throws(() => parseWrk(out('  Socket errors: connect 0, read 1, write 0, timeout 0\n')), /socket errors/);
  });

  it('the .cpuprofile reader charges each sample delta to its frame, self and inclusive, inside the window', async () => {
    const dir = await tempDir('arca-cpuprof-');
    try {
      const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, scriptId: '0', columnNumber: 0 });
      const profile = {
        nodes: [
          { id: 1, callFrame: frame('(root)'), children: [2, 4] },
          { id: 2, callFrame: frame('handle', 'file:///x/src/core/core.ts'), children: [3] },
          { id: 3, callFrame: frame('readData', 'file:///x/src/engines/kv/data.ts') },
          { id: 4, callFrame: frame('(idle)') },
        ],
        startTime: 1000,
        endTime: 1100,
        samples: [3, 2, 4, 3],
        timeDeltas: [10, 20, 30, 40],
      };
      const file = join(dir.path, 'p.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const all = summarise(file);
      assert.equal(all.totalUs, 100);
      assert.equal(all.idleUs, 30);
      assert.equal(all.areas.get('src/engines/kv'), 50);
      assert.equal(all.areas.get('src/core'), 20);
      assert.equal(all.inclusive.find((f) => f.key.startsWith('handle '))?.selfUs, 70);
      // Samples at t = 1010, 1030, 1060, 1100: the window keeps the middle two.
      const cut = summarise(file, { fromUs: 1020, toUs: 1070 });
      assert.equal(cut.totalUs, 50);
      assert.equal(cut.areas.get('src/core'), 20);
      assert.equal(cut.areas.get('src/engines/kv'), undefined);
    } finally {
      await dir.remove();
    }
  });
});
