/**
 * Against a real etcd with client-certificate TLS: exact scan counts on a seeded mix, rewrite that
 * leaves nothing stale, never loses a concurrent write, and resumes after being SIGKILLed.
 * The KMS values are real: a real `arca kms-plugin` process over a dev `arca server`'s transit key
 * (KMS v2 and v1beta1 on one Unix socket), dialled both in-process and by the `arca etcd` CLI. The
 * last test opens both KMS envelopes layer by layer through that plugin and checks that tampering
 * is refused: the integration counterpart of the stubbed format tests in
 * src/k8s/encryption/formats.test.ts. No fake KMS is used in this file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Etcd3 } from 'etcd3';
import { ARCA_BIN, type ArcaProcess, startArca } from '../../../test/harness/arca.ts';
import { type EtcdHandle, startEtcd, tempDir, waitFor } from '../../../test/harness/index.ts';
import { KmsTestClient, type PluginProcess, rejectsWith, startPlugin } from '../../kms-plugin/testing.ts';
import {
  AesGcmTransformer,
  buildTransformers,
  decodeEncryptedObject,
  type EncryptionTransformers,
  encodeEncryptedObject,
  HKDF_SHA256_XNONCE_AES_GCM_SEED,
  openSeedPayload,
  parseEncryptionConfig,
} from '../encryption/index.ts';
import { ClassifyPool, connectEtcd, rewrite, scan } from './index.ts';

const ROOT = 'root-T';
const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString('base64');
const K1 = b64(32, 1);
const K2 = b64(32, 2);
const C1 = b64(16, 3);
const S1 = b64(32, 4);

function config(secretProviders: unknown[]) {
  return {
    kind: 'EncryptionConfiguration',
    apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [{ resources: ['secrets'], providers: secretProviders }],
  };
}

describe('arca etcd against a real etcd (TLS)', () => {
  let etcd: EtcdHandle;
  let client: Etcd3;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let plugin: PluginProcess;
  /** The transit key's version id: the key_id the real plugin reports and writes under. */
  let kekId: string;
  let reader: EncryptionTransformers;
  let readerFile: string;
  const writers: Record<string, EncryptionTransformers> = {};
  const build = (c: unknown) => buildTransformers(parseEncryptionConfig(JSON.stringify(c)), { kmsV1: true });
  const secret = (name: string) => Buffer.from(`k8s\0secret ${name} ${'x'.repeat(200)}`);

  async function put(w: string, key: string, plaintext: Buffer): Promise<void> {
    const t = writers[w]!.forResource('secrets').transformer;
    await client.put(key).value(Buffer.from(await t.toStorage(plaintext, Buffer.from(key))));
  }
  async function plaintextAt(key: string): Promise<Buffer> {
    const v = await client.get(key).buffer();
    assert.ok(v, key);
    return Buffer.from((await reader.forResource('secrets').transformer.fromStorage(v, Buffer.from(key))).plaintext);
  }
  function cli(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> & { pid?: number; kill(s: NodeJS.Signals): void } {
    const pki = etcd.pki!;
    const child = spawn(ARCA_BIN, ['etcd', ...args, '--endpoints', etcd.endpoint, '--cacert', pki.ca, '--cert', pki.cert, '--key', pki.key, '--encryption-config', readerFile], { cwd: dir.path });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const p = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return Object.assign(p, { kill: (s: NodeJS.Signals) => child.kill(s) });
  }

  before(async () => {
    dir = await tempDir('arca-etcd-test-');
    const startKms = async () => {
      srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
      const c = srv.client(ROOT);
      try {
        await c.write('transit/keys/k8s-kek', {});
        kekId = ((await c.read('transit/keys/k8s-kek')).body['data'] as { version_ids: Record<string, string> }).version_ids['1']!;
      } finally {
        c.close();
      }
      await writeFile(join(dir.path, 'token'), `${ROOT}\n`, { mode: 0o600 });
      plugin = await startPlugin(join(dir.path, 'kms.sock'), ['--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token')]);
    };
    // both started side by side; allSettled so that after() finds and stops whichever one did start
    for (const r of await Promise.allSettled([startEtcd({ tls: true }).then((e) => (etcd = e)), startKms()])) if (r.status === 'rejected') throw r.reason;
    assert.ok(kekId, 'the transit key has a version id');
    const endpoint = `unix://${plugin.socket}`;
    const vault = { kms: { apiVersion: 'v2', name: 'vault', endpoint } };
    const vaultV1 = { kms: { apiVersion: 'v1', name: 'vault-v1', endpoint } };
    const readerCfg = config([
      { aesgcm: { keys: [{ name: 'k2', secret: K2 }, { name: 'k1', secret: K1 }] } },
      { aescbc: { keys: [{ name: 'c1', secret: C1 }] } },
      { secretbox: { keys: [{ name: 's1', secret: S1 }] } },
      vault,
      vaultV1,
      { identity: {} },
    ]);
    readerFile = `${dir.path}/encryption-config.json`;
    await writeFile(readerFile, JSON.stringify(readerCfg), { mode: 0o600 });
    reader = build(readerCfg);
    writers['current'] = build(config([{ aesgcm: { keys: [{ name: 'k2', secret: K2 }] } }]));
    writers['k1'] = build(config([{ aesgcm: { keys: [{ name: 'k1', secret: K1 }] } }]));
    writers['cbc'] = build(config([{ aescbc: { keys: [{ name: 'c1', secret: C1 }] } }]));
    writers['box'] = build(config([{ secretbox: { keys: [{ name: 's1', secret: S1 }] } }]));
    writers['kms'] = build(config([vault]));
    writers['kmsv1'] = build(config([vaultV1]));
    writers['gone'] = build(config([{ aesgcm: { keys: [{ name: 'gone', secret: b64(32, 9) }] } }]));
    writers['plain'] = build(config([{ identity: {} }]));
    client = await connectEtcd({ endpoints: [etcd.endpoint], cacert: etcd.pki!.ca, cert: etcd.pki!.cert, key: etcd.pki!.key });
  });

  after(async () => {
    client?.close();
    reader?.close();
    for (const w of Object.values(writers)) w.close();
    await plugin?.stop();
    await srv?.stop();
    await etcd?.stop();
    await dir?.remove();
  });

  describe('a seeded mix', () => {
    const mix: [string, string, number][] = [
      ['plain', 'plain', 3],
      ['current', 'cur', 4],
      ['k1', 'k1', 2],
      ['cbc', 'cbc', 2],
      ['box', 'box', 1],
      ['kms', 'kms', 1],
      ['kmsv1', 'kmsv1', 1],
      ['gone', 'gone', 1],
    ];
    before(async () => {
      for (const [w, ns, n] of mix) for (let i = 0; i < n; i++) await put(w, `/registry/secrets/${ns}/s${i}`, secret(`${ns}-${i}`));
      // an aesgcm value moved to another key: the etcd key is bound, so it no longer opens
      const moved = await writers['current']!.forResource('secrets').transformer.toStorage(secret('m'), Buffer.from('/registry/secrets/x/orig'));
      await client.put('/registry/secrets/x/moved').value(Buffer.from(moved));
      await client.put('/registry/configmaps/default/c1').value('{"kind":"ConfigMap","apiVersion":"v1"}');
      await client.put('/registry/configmaps/default/c2').value(Buffer.concat([Buffer.from('k8s\0'), Buffer.from('cm')]));
    });

    it('scan counts every state exactly, by resource and by provider/key', async () => {
      const r = await scan(client, reader, { prefix: '/registry/', pageSize: 4 });
      assert.equal(r.total, 18);
      assert.deepEqual(r.byState, { plaintext: 5, current: 4, stale: 7, undecryptable: 2 });
      assert.deepEqual(r.byResource['secrets'], { plaintext: 3, current: 4, stale: 7, undecryptable: 2 });
      assert.deepEqual(r.byResource['configmaps'], { plaintext: 2, current: 0, stale: 0, undecryptable: 0 });
      assert.equal(r.byProvider['aesgcm']?.['k2'], 5); // 4 current + the moved (undecryptable) one
      assert.equal(r.byProvider['aesgcm']?.['k1'], 2);
      assert.equal(r.byProvider['aescbc']?.['c1'], 2);
      assert.equal(r.byProvider['secretbox']?.['s1'], 1);
      // the KMS values were opened through the real plugin, under the transit key's version id
      assert.deepEqual(r.byProvider['kms-v2'], { [`vault key_id=${kekId}`]: 1 });
      assert.deepEqual(r.byProvider['kms-v1'], { 'vault-v1': 1 });
      assert.deepEqual(
        r.objects.filter((o) => o.state === 'undecryptable').map((o) => [o.key, o.provider, o.keyName]),
        [
          ['/registry/secrets/gone/s0', 'aesgcm', 'gone'],
          ['/registry/secrets/x/moved', 'aesgcm', 'k2'],
        ],
      );
    });

    it('scan on worker threads gives the same report', async () => {
      const pool = await ClassifyPool.start(readFileSync(readerFile, 'utf8'), '/registry/', 2);
      try {
        const a = await scan(client, reader, { prefix: '/registry/', pageSize: 3 });
        const b = await scan(client, reader, { prefix: '/registry/', pageSize: 3, pool });
        assert.deepEqual(b, a);
      } finally {
        await pool.close();
      }
    });

    it('scan CLI prints the JSON report and --fail-on sets exit 1', async () => {
      const r = await cli(['scan', '-o', 'json', '--resources', 'secrets', '--fail-on', 'stale']);
      assert.equal(r.code, 1, r.stderr);
      const j = JSON.parse(r.stdout) as { total: number; byState: Record<string, number>; objects: { key: string; state: string }[] };
      assert.equal(j.total, 16);
      assert.deepEqual(j.byState, { plaintext: 3, current: 4, stale: 7, undecryptable: 2 });
      assert.equal(j.objects.length, 16);
    });

    it('decrypt CLI shows the plaintext, provider, stale flag and object', async () => {
      const r = await cli(['decrypt', '--etcd-key', '/registry/secrets/cbc/s0', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { plaintextBase64: string; stale: boolean; provider: string; keyName: string };
      assert.deepEqual([j.stale, j.provider, j.keyName], [true, 'aescbc', 'c1']);
      assert.ok(Buffer.from(j.plaintextBase64, 'base64').equals(secret('cbc-0')));
      const bad = await cli(['decrypt', '--etcd-key', '/registry/secrets/x/moved']);
      assert.equal(bad.code, 2);
    });

    it('decrypt CLI opens KMS v2 and v1 values through the real plugin', async () => {
      const v2 = await cli(['decrypt', '--etcd-key', '/registry/secrets/kms/s0', '-o', 'json']);
      assert.equal(v2.code, 0, v2.stderr);
      const j2 = JSON.parse(v2.stdout) as { plaintextBase64: string; stale: boolean; provider: string; keyName: string; keyId: string };
      assert.deepEqual([j2.stale, j2.provider, j2.keyName, j2.keyId], [true, 'kms-v2', 'vault', kekId]);
      assert.ok(Buffer.from(j2.plaintextBase64, 'base64').equals(secret('kms-0')));
      const v1 = await cli(['decrypt', '--etcd-key', '/registry/secrets/kmsv1/s0', '-o', 'json']);
      assert.equal(v1.code, 0, v1.stderr);
      const j1 = JSON.parse(v1.stdout) as { plaintextBase64: string; stale: boolean; provider: string; keyName: string };
      assert.deepEqual([j1.stale, j1.provider, j1.keyName], [true, 'kms-v1', 'vault-v1']);
      assert.ok(Buffer.from(j1.plaintextBase64, 'base64').equals(secret('kmsv1-0')));
    });

    it('rewrite re-encrypts every stale value and leaves the rest alone', async () => {
      const before = await client.getAll().prefix('/registry/').exec();
      const rev = new Map(before.kvs.map((kv) => [kv.key.toString(), kv.mod_revision]));
      const stats = await rewrite(client, reader, { prefix: '/registry/', pageSize: 5, concurrency: 3 });
      assert.equal(stats.scanned, 18);
      assert.equal(stats.rewritten, 10); // 7 stale (2 of them KMS, opened by the real plugin) + 3 plaintext secrets
      assert.equal(stats.undecryptable, 2);
      const r = await scan(client, reader, { prefix: '/registry/' });
      assert.deepEqual(r.byState, { plaintext: 2, current: 14, stale: 0, undecryptable: 2 });
      assert.equal(r.byProvider['aesgcm']?.['k2'], 15);
      assert.equal(r.byProvider['kms-v2'], undefined);
      assert.equal(r.byProvider['kms-v1'], undefined);
      for (const [, ns, n] of mix.filter(([w]) => w !== 'gone')) {
        for (let i = 0; i < n; i++) assert.ok((await plaintextAt(`/registry/secrets/${ns}/s${i}`)).equals(secret(`${ns}-${i}`)));
      }
      const afterKvs = await client.getAll().prefix('/registry/').exec();
      for (const kv of afterKvs.kvs) {
        const k = kv.key.toString();
        if (k.startsWith('/registry/secrets/cur/') || k.startsWith('/registry/configmaps/') || k.includes('/gone/') || k.endsWith('/moved')) {
          assert.equal(kv.mod_revision, rev.get(k), `${k} must not be written`);
        }
      }
    });
  });

  for (const batchSize of [32, 1]) it(`a concurrent writer always wins: no lost update (batch ${batchSize})`, async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `/registry/secrets/race${batchSize}/s${String(i).padStart(3, '0')}`);
    for (const k of keys) await put('k1', k, secret(`orig ${k}`));
    // Deterministic race: the "apiserver" writes a new value right after rewrite read each odd key.
    const written = new Map<string, Buffer>();
    const racing = Object.create(reader) as EncryptionTransformers;
    racing.forResource = (r) => {
      const chain = reader.forResource(r);
      return {
        ...chain,
        transformer: {
          fromStorage: (d, aad) => chain.transformer.fromStorage(d, aad),
          async toStorage(p, aad) {
            const key = Buffer.from(aad).toString();
            const i = keys.indexOf(key);
            if (i % 2 === 1 && !written.has(key)) {
              const v = secret(`concurrent ${key}`);
              written.set(key, v);
              await put(i % 4 === 1 ? 'k1' : 'current', key, v); // half stale, half current
            }
            return chain.transformer.toStorage(p, aad);
          },
        },
      };
    };
    const stats = await rewrite(client, racing, { prefix: '/registry/', keyPrefix: `/registry/secrets/race${batchSize}/`, concurrency: 4, pageSize: 7, batchSize });

    assert.equal(stats.scanned, 40);
    assert.equal(written.size, 20);
    assert.equal(stats.conflicts, 10); // the writer's current values are kept as they are
    for (const k of keys) {
      assert.ok((await plaintextAt(k)).equals(written.get(k) ?? secret(`orig ${k}`)), k);
    }
    const r = await scan(client, reader, { prefix: '/registry/', keyPrefix: `/registry/secrets/race${batchSize}/` });
    assert.deepEqual(r.byState, { plaintext: 0, current: 40, stale: 0, undecryptable: 0 });
  });

  it('rewrite CLI resumes after SIGKILL midway and finishes the job', async () => {
    const n = 1500;
    const ops = [];
    for (let i = 0; i < n; i++) {
      const key = `/registry/secrets/bulk/s${String(i).padStart(5, '0')}`;
      const t = writers['cbc']!.forResource('secrets').transformer;
      ops.push(t.toStorage(secret(key), Buffer.from(key)).then((v) => client.put(key).value(Buffer.from(v))));
      if (ops.length >= 64) await Promise.all(ops.splice(0));
    }
    await Promise.all(ops);
    const stateFile = `${dir.path}/arca-etcd-rewrite.state.json`;
    const first = cli(['rewrite', '--resources', 'secrets', '--page-size', '50', '--concurrency', '4', '--rate', '300']);
    await waitFor('a checkpoint', async () => {
      if (!existsSync(stateFile)) return undefined;
      const s = JSON.parse(readFileSync(stateFile, 'utf8')) as { lastKey?: string; stats: { rewritten: number } };
      return s.stats.rewritten >= 100 ? s : undefined;
    }, 30_000, 20);
    first.kill('SIGKILL');
    const killed = await first;
    assert.equal(killed.signal, 'SIGKILL');
    const mid = await scan(client, reader, { prefix: '/registry/', keyPrefix: '/registry/secrets/bulk/' });
    assert.ok(mid.byState.stale > 0 && mid.byState.current > 0, JSON.stringify(mid.byState));

    const second = await cli(['rewrite', '--resources', 'secrets', '--resume', '--concurrency', '8', '-o', 'json']);
    assert.equal(second.code, 0, second.stderr);
    const s = JSON.parse(second.stdout) as { scanned: number; rewritten: number; resumedAfter?: string };
    assert.ok(s.resumedAfter, 'resumed from the state file');
    assert.ok(s.scanned < 1500 + 60, `scanned ${s.scanned}`);
    assert.equal(existsSync(stateFile), false);
    const done = await scan(client, reader, { prefix: '/registry/', keyPrefix: '/registry/secrets/bulk/' });
    assert.deepEqual(done.byState, { plaintext: 0, current: n, stale: 0, undecryptable: 0 });
    assert.ok((await plaintextAt('/registry/secrets/bulk/s00777')).equals(secret('/registry/secrets/bulk/s00777')));
  });

  // The integration counterpart of the stubbed KMS format tests in src/k8s/encryption/formats.test.ts:
  // the same envelopes, with the EDEK/seed encrypted by the real plugin under a real transit key.
  it('KMS v2 and v1 envelopes through the real plugin: each layer opens by hand, and tampering is refused', async () => {
    const plain = secret('envelope');
    const k2 = '/registry/secrets/envelope/v2';
    const k1 = '/registry/secrets/envelope/v1';
    await put('kms', k2, plain);
    await put('kmsv1', k1, plain);
    const stored = async (key: string, prefix: string) => {
      const v = (await client.get(key).buffer())!;
      assert.equal(v.subarray(0, prefix.length).toString('latin1'), prefix);
      return v.subarray(prefix.length);
    };
    const flipAt = (b: Uint8Array, i: number) => {
      const c = Buffer.from(b);
      c[i]! ^= 1;
      return c;
    };
    // a fresh reader (no seed or DEK cached), as the CLI or a restarted apiserver
    const fresh = buildTransformers(parseEncryptionConfig(readFileSync(readerFile, 'utf8')), { kmsV1: true });
    const k = new KmsTestClient(plugin.socket);
    try {
      // v2: k8s:enc:kms:v2:<name>: ‖ EncryptedObject{seed encrypted by the plugin under the transit
      // key's version id; HKDF-Expand(seed, info) ‖ AES-256-GCM with AAD = the etcd key}
      const o = decodeEncryptedObject(await stored(k2, 'k8s:enc:kms:v2:vault:'));
      assert.equal(o.keyId, kekId);
      assert.equal(o.encryptedDekSourceType, HKDF_SHA256_XNONCE_AES_GCM_SEED);
      const seed = await k.decrypt(o.encryptedDekSource, o.keyId, o.annotations);
      assert.equal(seed.length, 32);
      assert.ok(Buffer.from(openSeedPayload(seed, o.encryptedData, Buffer.from(k2))).equals(plain));
      // v1: k8s:enc:kms:v1:<name>: ‖ L(2, BE) ‖ EDEK (the plugin's v1beta1 ciphertext of the DEK) ‖ AES-256-GCM(DEK, AAD = the etcd key)
      const b1 = await stored(k1, 'k8s:enc:kms:v1:vault-v1:');
      const len = b1.readUInt16BE(0);
      const edek = b1.subarray(2, 2 + len);
      const dek = (await k.call('v1beta1', 'Decrypt', { version: 'v1beta1', cipher: edek }))['plain'] as Buffer;
      assert.equal(dek.length, 32);
      const body = b1.subarray(2 + len);
      assert.ok(Buffer.from(new AesGcmTransformer(dek).open(body, Buffer.from(k1))).equals(plain));
      // after AES-GCM fails, kms v1 falls back to AES-CBC: this body is no whole number of blocks,
      // so a refusal below never depends on chance
      assert.notEqual(body.length % 16, 0);

      // The plugin itself refuses a changed EDEK and a key_id its transit key never had.
      const badSeed = flipAt(o.encryptedDekSource, o.encryptedDekSource.length - 20);
      await rejectsWith(k.decrypt(badSeed, o.keyId, o.annotations), grpc.status.INVALID_ARGUMENT, 'ERR_CRYPTO_DECRYPT');
      const otherKeyId = `${kekId}-other`;
      await rejectsWith(k.decrypt(o.encryptedDekSource, otherKeyId, o.annotations), grpc.status.INVALID_ARGUMENT, 'ERR_KMS_KEY_ID_UNKNOWN');
      const badEdek = flipAt(edek, edek.length - 20);
      await assert.rejects(k.call('v1beta1', 'Decrypt', { version: 'v1beta1', cipher: badEdek }));

      // The same through the reader's chain on values in etcd: each one undecryptable, with the
      // plugin's refusal (ERR_KMS_PLUGIN_RESPONSE) or the local AES-GCM check (ERR_TRANSFORM_DECRYPT).
      const v2 = (f: Partial<typeof o>) => Buffer.concat([Buffer.from('k8s:enc:kms:v2:vault:'), encodeEncryptedObject({ ...o, ...f })]);
      const v1 = (e: Uint8Array, b: Uint8Array) => Buffer.concat([Buffer.from('k8s:enc:kms:v1:vault-v1:'), Buffer.from([e.length >> 8, e.length & 0xff]), e, b]);
      const tampered: [string, Buffer, string][] = [
        ['v2-edek', v2({ encryptedDekSource: badSeed }), 'ERR_KMS_PLUGIN_RESPONSE'],
        ['v2-keyid', v2({ keyId: otherKeyId }), 'ERR_KMS_PLUGIN_RESPONSE'],
        ['v2-tag', v2({ encryptedData: flipAt(o.encryptedData, o.encryptedData.length - 1) }), 'ERR_TRANSFORM_DECRYPT'],
        ['v2-moved', v2({}), 'ERR_TRANSFORM_DECRYPT'], // the etcd key is the AAD
        ['v1-edek', v1(badEdek, body), 'ERR_KMS_PLUGIN_RESPONSE'],
        ['v1-body', v1(edek, flipAt(body, 12)), 'ERR_TRANSFORM_DECRYPT'],
        ['v1-moved', v1(edek, body), 'ERR_TRANSFORM_DECRYPT'],
      ];
      for (const [name, value] of tampered) await client.put(`/registry/secrets/tampered/${name}`).value(value);
      const r = await scan(client, fresh, { prefix: '/registry/', keyPrefix: '/registry/secrets/tampered/' });
      assert.deepEqual(
        r.objects.map((x) => [x.key, x.state, x.error]),
        tampered.map(([name, , err]) => [`/registry/secrets/tampered/${name}`, 'undecryptable', err]).sort(),
      );
      // the untouched values still open through the same fresh chain (and the real plugin)
      const ok = await scan(client, fresh, { prefix: '/registry/', keyPrefix: '/registry/secrets/envelope/' });
      assert.deepEqual(ok.byState, { plaintext: 0, current: 0, stale: 2, undecryptable: 0 });
      for (const key of [k1, k2]) {
        const got = await fresh.forResource('secrets').transformer.fromStorage((await client.get(key).buffer())!, Buffer.from(key));
        assert.ok(Buffer.from(got.plaintext).equals(plain), key);
      }
    } finally {
      k.close();
      fresh.close();
    }
  });
});
