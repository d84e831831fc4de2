import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerUi, UI_CSP } from './ui-static.ts';

describe('UI static serving', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-ui-static-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/ui/assets/app-1a2b.js"></script>');
    await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('serves the index for client routes (no-store, CSP) and hashed assets immutable; unknown assets 404', async () => {
    const app = Fastify();
    registerUi(app, dir);
    const idx = await app.inject('/ui/keys/k8s-kek');
    assert.equal(idx.statusCode, 200);
    assert.match(idx.body, /id="root"/);
    assert.equal(idx.headers['content-security-policy'], UI_CSP);
    assert.equal(idx.headers['cache-control'], 'no-store');
    const js = await app.inject('/ui/assets/app-1a2b.js');
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.equal((await app.inject('/ui/assets/missing-9z.js')).statusCode, 404);
    assert.doesNotMatch((await app.inject('/ui/..%2f..%2f..%2fetc/passwd')).body, /root:/, 'no path traversal');
    assert.equal((await app.inject('/ui')).headers['location'], '/ui/');
    await app.close();
  });

  it('answers 503 with how to build when there is no build', async () => {
    const app = Fastify();
    registerUi(app, join(dir, 'nope'));
    const r = await app.inject('/ui/');
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    assert.equal(r.headers['content-security-policy'], UI_CSP);
    await app.close();
  });
});
