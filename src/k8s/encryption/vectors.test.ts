import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../../test/harness/index.ts';
import { ArcaError } from '../../errors/index.ts';
import { AesCbcTransformer, AesGcmTransformer } from './aes.ts';
import { SecretboxTransformer } from './secretbox.ts';
import { buildProviderChain, type KmsFactories } from './build.ts';
import { parseEncryptionConfig } from './config.ts';
import { grpcKmsV1, grpcKmsV2 } from './kms-grpc.ts';
import { openSeedPayload } from './kms-v2.ts';
import { type FakeKmsPlugin, startFakeKms } from './testing/fake-kms.ts';
import { blobBytes, loadVectors, type Vector } from './testing/vectors.ts';
import { utf8Bytes } from './transformer.ts';

const loaded = loadVectors();

async function decryptVector(v: Vector, etcdKey: string, plugins: Map<string, FakeKmsPlugin>) {
  const stored = blobBytes(v.stored);
  const aad = utf8Bytes(etcdKey);
  if (v.layer !== 'raw-transformer' && v.layer !== 'etcd-value') throw new Error(`vector ${v.id}: unknown layer ${v.layer}`);
  if (v.layer === 'raw-transformer') {
    const key = Buffer.from(v.raw!.keyHex, 'hex');
    if (v.provider === 'kms-v2-seed-inner') return { plaintext: openSeedPayload(key, stored, aad), stale: false };
    if (v.provider === 'aescbc') return new AesCbcTransformer(key).fromStorage(stored);
    if (v.provider === 'secretbox') return new SecretboxTransformer(key).fromStorage(stored);
    return new AesGcmTransformer(key).fromStorage(stored, aad);
  }
  const cfg = parseEncryptionConfig(JSON.stringify(v.readConfig));
  // A provider without a fake plugin behaves like a plugin that is down.
  const down = () => Promise.reject(new ArcaError('ERR_KMS_PLUGIN_UNAVAILABLE', 'no plugin'));
  const kms: KmsFactories = {
    v1: (name, _e, t) => {
      const p = plugins.get(name);
      return p ? grpcKmsV1(name, p.endpoint, t) : { encrypt: down, decrypt: down };
    },
    v2: (name, _e, t) => {
      const p = plugins.get(name);
      return p ? grpcKmsV2(name, p.endpoint, t) : { status: down, encrypt: down, decrypt: down };
    },
  };
  return buildProviderChain(cfg.resources[0]!.providers, kms).fromStorage(stored, aad);
}

describe('Kubernetes transformer vectors', () => {
  it('loads at least the public vector file', () => {
    assert.ok(loaded.files.length >= 1);
    assert.ok(loaded.vectors.length >= 20);
  });

  for (const v of loaded.vectors) {
    describe(`${v.id} (${v.provider})`, () => {
      const plugins = new Map<string, FakeKmsPlugin>();
      let dir: Awaited<ReturnType<typeof tempDir>>;
      before(async () => {
        dir = await tempDir('arca-vec-');
        for (const [name, spec] of Object.entries(v.fakeKms ?? {})) {
          plugins.set(name, await startFakeKms(spec, `${dir.path}/${plugins.size}.sock`));
        }
      });
      after(async () => {
        for (const p of plugins.values()) await p.stop();
        await dir.remove();
      });

      it(v.expected.decryptOk ? 'decrypts to the plaintext with the expected stale flag' : 'fails to decrypt', async () => {
        const want = blobBytes(v.plaintext);
        assert.equal(createHash('sha256').update(want).digest('hex'), v.plaintext.sha256);
        if (!v.expected.decryptOk) {
          await assert.rejects(decryptVector(v, v.etcdKey, plugins), (e: { code?: string }) => typeof e.code === 'string');
          return;
        }
        const r = await decryptVector(v, v.etcdKey, plugins);
        assert.ok(Buffer.from(r.plaintext).equals(want), 'plaintext differs');
        assert.equal(r.stale, v.expected.stale ?? false);
      });

      if (v.aadCheck) {
        const check = v.aadCheck;
        it(check.decryptOk ? 'still decrypts under a moved etcd key (key not bound)' : 'rejects the value under a moved etcd key', async () => {
          if (check.decryptOk) {
            const r = await decryptVector(v, check.etcdKey, plugins);
            assert.ok(Buffer.from(r.plaintext).equals(blobBytes(v.plaintext)));
          } else {
            await assert.rejects(decryptVector(v, check.etcdKey, plugins), (e: { code?: string }) => e.code === 'ERR_TRANSFORM_DECRYPT');
          }
        });
      }
    });
  }
});

describe('synchronous read path (local-key chains)', () => {
  const noKms: KmsFactories = {
    v1: () => ({ encrypt: () => Promise.reject(new Error('unused')), decrypt: () => Promise.reject(new Error('unused')) }),
    v2: () => ({ status: () => Promise.reject(new Error('unused')), encrypt: () => Promise.reject(new Error('unused')), decrypt: () => Promise.reject(new Error('unused')) }),
  };
  const outcome = (f: () => { plaintext: Uint8Array; stale: boolean; info?: unknown }) => {
    try {
      const r = f();
      return { ok: true, plaintext: Buffer.from(r.plaintext).toString('hex'), stale: r.stale, info: r.info };
    } catch (err) {
      return { ok: false, code: (err as { code?: string }).code, message: (err as Error).message };
    }
  };
  const local = loaded.vectors.filter((v) => v.layer === 'etcd-value' && !JSON.stringify(v.readConfig).includes('"kms"'));

  it('covers the local-key etcd-value vectors', () => {
    assert.ok(local.length >= 5, `only ${local.length} local-key vectors`);
  });

  for (const v of local) {
    it(`${v.id}: same result or error as the async path, under its own and a moved key`, async () => {
      const chain = buildProviderChain(parseEncryptionConfig(JSON.stringify(v.readConfig)).resources[0]!.providers, noKms);
      assert.ok(chain.fromStorageSync, 'a chain of local providers offers the synchronous read');
      for (const key of [v.etcdKey, `${v.etcdKey}-moved`]) {
        const stored = blobBytes(v.stored);
        const aad = utf8Bytes(key);
        const sync = outcome(() => chain.fromStorageSync!(stored, aad));
        let async_: ReturnType<typeof outcome>;
        try {
          const r = await chain.fromStorage(stored, aad);
          async_ = outcome(() => r);
        } catch (err) {
          async_ = outcome(() => {
            throw err;
          });
        }
        assert.deepEqual(sync, async_);
      }
    });
  }
});
