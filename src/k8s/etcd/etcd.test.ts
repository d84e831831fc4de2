/**
 * Against a real etcd with client-certificate TLS: exact scan counts on a seeded mix, rewrite that
 * leaves nothing stale, never loses a concurrent write, and resumes after being SIGKILLed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { type EtcdHandle, startEtcd, tempDir, waitFor } from '../../../test/harness/index.ts';
import { buildTransformers, type EncryptionTransformers, parseEncryptionConfig } from '../encryption/index.ts';
import { type FakeKmsPlugin, startFakeKms } from '../encryption/testing/fake-kms.ts';
import { ClassifyPool, connectEtcd, rewrite, scan } from './index.ts';

const ARCA = fileURLToPath(new URL('../../../bin/arca', import.meta.url));
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
  let kms: FakeKmsPlugin;
  let reader: EncryptionTransformers;
  let readerFile: string;
  const writers: Record<string, EncryptionTransformers> = {};
  const build = (c: unknown) => buildTransformers(parseEncryptionConfig(JSON.stringify(c)));
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
    const child = spawn(ARCA, ['etcd', ...args, '--endpoints', etcd.endpoint, '--cacert', pki.ca, '--cert', pki.cert, '--key', pki.key, '--encryption-config', readerFile], { cwd: dir.path });
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
    etcd = await startEtcd({ tls: true });
    dir = await tempDir('arca-etcd-test-');
    kms = await startFakeKms({ apiVersion: 'v2', scheme: 'base64', currentKeyId: 'kek-1' }, `${dir.path}/kms.sock`);
    const vault = { kms: { apiVersion: 'v2', name: 'vault', endpoint: kms.endpoint } };
    const readerCfg = config([
      { aesgcm: { keys: [{ name: 'k2', secret: K2 }, { name: 'k1', secret: K1 }] } },
      { aescbc: { keys: [{ name: 'c1', secret: C1 }] } },
      { secretbox: { keys: [{ name: 's1', secret: S1 }] } },
      vault,
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
    writers['gone'] = build(config([{ aesgcm: { keys: [{ name: 'gone', secret: b64(32, 9) }] } }]));
    writers['plain'] = build(config([{ identity: {} }]));
    client = await connectEtcd({ endpoints: [etcd.endpoint], cacert: etcd.pki!.ca, cert: etcd.pki!.cert, key: etcd.pki!.key });
  });

  after(async () => {
    client?.close();
    reader?.close();
    for (const w of Object.values(writers)) w.close();
    await kms?.stop();
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
      assert.equal(r.total, 17);
      assert.deepEqual(r.byState, { plaintext: 5, current: 4, stale: 6, undecryptable: 2 });
      assert.deepEqual(r.byResource['secrets'], { plaintext: 3, current: 4, stale: 6, undecryptable: 2 });
      assert.deepEqual(r.byResource['configmaps'], { plaintext: 2, current: 0, stale: 0, undecryptable: 0 });
      assert.equal(r.byProvider['aesgcm']?.['k2'], 5); // 4 current + the moved (undecryptable) one
      assert.equal(r.byProvider['aesgcm']?.['k1'], 2);
      assert.equal(r.byProvider['aescbc']?.['c1'], 2);
      assert.equal(r.byProvider['secretbox']?.['s1'], 1);
      assert.equal(r.byProvider['kms-v2']?.['vault key_id=kek-1'], 1);
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
      assert.equal(j.total, 15);
      assert.deepEqual(j.byState, { plaintext: 3, current: 4, stale: 6, undecryptable: 2 });
      assert.equal(j.objects.length, 15);
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

    it('rewrite re-encrypts every stale value and leaves the rest alone', async () => {
      const before = await client.getAll().prefix('/registry/').exec();
      const rev = new Map(before.kvs.map((kv) => [kv.key.toString(), kv.mod_revision]));
      const stats = await rewrite(client, reader, { prefix: '/registry/', pageSize: 5, concurrency: 3 });
      assert.equal(stats.scanned, 17);
      assert.equal(stats.rewritten, 9); // 6 stale + 3 plaintext secrets
      assert.equal(stats.undecryptable, 2);
      const r = await scan(client, reader, { prefix: '/registry/' });
      assert.deepEqual(r.byState, { plaintext: 2, current: 13, stale: 0, undecryptable: 2 });
      assert.equal(r.byProvider['aesgcm']?.['k2'], 14);
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
});
