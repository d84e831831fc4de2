import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ArcaError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { KmsPluginService } from './service.ts';
import { MemoryKeySource } from './testing.ts';

describe('health loop', () => {
  it('reports unhealthy when a check hangs longer than one interval, and ok again once it completes', async () => {
    class HangingSource extends MemoryKeySource {
      hang = false;
      override async probe(): Promise<void> {
        if (this.hang) await new Promise((r) => setTimeout(r, 700));
      }
    }
    const src = new HangingSource();
    const svc = new KmsPluginService(src, { healthIntervalMs: 200, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
    await svc.start();
    try {
      assert.equal(svc.status().healthz, 'ok');
      src.hang = true;
      const t0 = Date.now();
      while (svc.status().healthz === 'ok' && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 20));
      assert.match(svc.status().healthz, /^ERR_KMS_PLUGIN_UNAVAILABLE: /);
      assert.ok(Date.now() - t0 < 600, `took ${Date.now() - t0} ms`);
      assert.throws(() => svc.encrypt(randomBytes(32)), (e) => e instanceof ArcaError && e.code === 'ERR_KMS_PLUGIN_UNAVAILABLE');
      src.hang = false;
      const t1 = Date.now();
      while (svc.status().healthz !== 'ok' && Date.now() - t1 < 3000) await new Promise((r) => setTimeout(r, 20));
      assert.equal(svc.status().healthz, 'ok');
    } finally {
      await svc.stop();
    }
  });
});

describe('KmsPluginService', () => {
  it('answers a cached Decrypt synchronously and unwraps an unknown local KEK through the source once', async () => {
    const src = new MemoryKeySource();
    let unwraps = 0;
    const orig = src.unwrap.bind(src);
    src.unwrap = (id, w) => {
      unwraps++;
      return orig(id, w);
    };
    const a = new KmsPluginService(src, { healthIntervalMs: 60_000, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
    const b = new KmsPluginService(src, { healthIntervalMs: 60_000, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
    await a.start();
    await b.start();
    try {
      const seed = randomBytes(32);
      const r = a.encrypt(seed);
      const own = a.decrypt(r.ciphertext, r.keyId);
      assert.ok(!(own instanceof Promise));
      assert.deepEqual(Buffer.from(own), seed);
      // b never saw a's local KEK: concurrent Decrypts share one unwrap.
      const [x, y] = await Promise.all([b.decrypt(r.ciphertext, r.keyId), b.decrypt(r.ciphertext, r.keyId)]);
      assert.deepEqual(Buffer.from(x), seed);
      assert.deepEqual(Buffer.from(y), seed);
      assert.equal(unwraps, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('refuses Encrypt before the first successful check', () => {
    const svc = new KmsPluginService(new MemoryKeySource(), { healthIntervalMs: 60_000, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
    assert.throws(() => svc.encrypt(randomBytes(32)), (e) => e instanceof ArcaError && e.code === 'ERR_KMS_PLUGIN_UNAVAILABLE');
    assert.equal(svc.status().version, 'v2');
    assert.notEqual(svc.status().healthz, 'ok');
  });
});
