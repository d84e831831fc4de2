import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ArcaError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { KmsPluginService } from './service.ts';
import { MemoryKeySource, waitUntil } from './testing.ts';

/** A service over `src` after its first health check (later checks every `healthIntervalMs`). */
async function started(src: MemoryKeySource, healthIntervalMs = 60_000): Promise<KmsPluginService> {
  const svc = new KmsPluginService(src, { healthIntervalMs, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
  await svc.start();
  return svc;
}

describe('health loop', () => {
  /** A source whose probe can be held open until the test lets it finish. */
  class HangingSource extends MemoryKeySource {
    #release: (() => void) | undefined;
    held: Promise<void> | undefined;
    probes = 0;
    hang(): void {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      this.#release = release;
      this.held = held;
    }
    release(): void {
      this.#release?.();
      this.held = undefined;
    }
    override async probe(): Promise<void> {
      this.probes++;
      await this.held;
    }
  }

  it('reports unhealthy while a check hangs past one interval, refuses Encrypt, and is ok again once a check completes', async () => {
    const src = new HangingSource();
    const svc = await started(src, 200);
    try {
      assert.equal(svc.status().healthz, 'ok');
      src.hang();
      const probesBefore = src.probes;
      // The probe never returns while held: only the one-interval guard can turn Status unhealthy.
      await waitUntil('unhealthy', async () => (svc.status().healthz !== 'ok' ? true : undefined), 30_000);
      assert.ok(src.held, 'the hung probe is still pending');
      assert.equal(src.probes, probesBefore + 1, 'one check, still running');
      assert.match(svc.status().healthz, /^ERR_KMS_PLUGIN_UNAVAILABLE: health check did not finish within 200 ms$/);
      assert.throws(() => svc.encrypt(randomBytes(32)), (e) => e instanceof ArcaError && e.code === 'ERR_KMS_PLUGIN_UNAVAILABLE');
      src.release();
      await waitUntil('healthy again', async () => (svc.status().healthz === 'ok' ? true : undefined), 30_000);
      assert.equal(svc.encrypt(randomBytes(32)).keyId, 'mem-1');
    } finally {
      src.release();
      await svc.stop();
    }
  });

  it('turns unhealthy on the first failed check, with no retry or grace period', async () => {
    const src = new MemoryKeySource();
    const svc = await started(src);
    try {
      assert.equal(svc.status().healthz, 'ok');
      src.refresh = async () => {
        throw new ArcaError('ERR_SERVER_UNREACHABLE', 'connection refused');
      };
      await svc.checkNow();
      assert.match(svc.status().healthz, /^ERR_SERVER_UNREACHABLE: /);
      assert.throws(() => svc.encrypt(randomBytes(32)), (e) => e instanceof ArcaError && e.code === 'ERR_KMS_PLUGIN_UNAVAILABLE');
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
    const a = await started(src);
    const b = await started(src);
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

  it('stops decrypting a retired version from its caches at the first refresh that says so, even when the rest of that check fails', async () => {
    const src = new MemoryKeySource();
    const svc = await started(src);
    try {
      const seed = randomBytes(32);
      const r = svc.encrypt(seed);
      assert.deepEqual(Buffer.from(svc.decrypt(r.ciphertext, r.keyId) as Uint8Array), seed, 'cached while allowed');
      // The key was rotated and mem-1 retired (below min_decryption_version); making the new local
      // KEK fails in this check (e.g. the server timed out on encrypt).
      src.refresh = async () => ({ currentKeyId: 'mem-2', allows: (id) => id === 'mem-2' });
      src.wrap = async () => {
        throw new ArcaError('ERR_SERVER_UNREACHABLE', 'timeout');
      };
      src.unwrap = async () => {
        throw new ArcaError('ERR_KMS_KEY_ID_UNKNOWN', 'retired');
      };
      await svc.checkNow();
      assert.match(svc.status().healthz, /^ERR_SERVER_UNREACHABLE/);
      const again = svc.decrypt(r.ciphertext, r.keyId);
      assert.ok(again instanceof Promise, 'not answered from the seed cache');
      await assert.rejects(again, (e) => e instanceof ArcaError && e.code === 'ERR_KMS_KEY_ID_UNKNOWN');
    } finally {
      await svc.stop();
    }
  });

  it('refuses Encrypt before the first successful check', () => {
    const svc = new KmsPluginService(new MemoryKeySource(), { healthIntervalMs: 60_000, cacheSize: 10, cacheTtlMs: 60_000, log: silentLogger() });
    assert.throws(() => svc.encrypt(randomBytes(32)), (e) => e instanceof ArcaError && e.code === 'ERR_KMS_PLUGIN_UNAVAILABLE');
    assert.equal(svc.status().version, 'v2');
    assert.notEqual(svc.status().healthz, 'ok');
  });
});
