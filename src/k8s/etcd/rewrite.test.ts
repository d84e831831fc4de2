/**
 * The steps of a rewrite run, one at a time, against a real etcd: what each step writes, what it
 * leaves alone and what it counts. (etcd.test.ts runs whole rewrites, the CLI and resume.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { type EtcdHandle, startEtcd, tempDir } from '../../../test/harness/index.ts';
import { buildTransformers, type EncryptionTransformers, parseEncryptionConfig } from '../encryption/index.ts';
import { connectEtcd, type EtcdKv, pages, prefixRange } from './client.ts';
import { type RewriteOptions, RewriteRun, type RewriteStats } from './rewrite.ts';

const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString('base64');
const build = (providers: unknown[]) =>
  buildTransformers(
    parseEncryptionConfig(
      JSON.stringify({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: [{ resources: ['secrets'], providers }] }),
    ),
  );
const GCM = { aesgcm: { keys: [{ name: 'k2', secret: b64(32, 2) }] } };
const CBC = { aescbc: { keys: [{ name: 'c1', secret: b64(16, 3) }] } };
const GONE = { aesgcm: { keys: [{ name: 'gone', secret: b64(32, 9) }] } };
const ZERO: RewriteStats = { scanned: 0, rewritten: 0, unchanged: 0, conflicts: 0, deleted: 0, undecryptable: 0, failed: 0 };

describe('rewrite steps against a real etcd', () => {
  let etcd: EtcdHandle;
  let client: Etcd3;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  /** reads everything; writes aesgcm k2 (current), so aescbc values are stale */
  let reader: EncryptionTransformers;
  const writers: Record<string, EncryptionTransformers> = {};
  let ns = 0;
  let prefix = '';

  const key = (name: string) => `${prefix}${name}`;
  const plain = (s: string) => Buffer.from(`k8s\0${s}`);
  async function put(w: 'current' | 'stale' | 'gone', name: string, text: string): Promise<void> {
    const k = key(name);
    const v = await writers[w]!.forResource('secrets').transformer.toStorage(plain(text), Buffer.from(k));
    await client.put(k).value(Buffer.from(v));
  }
  async function readAll(): Promise<EtcdKv[]> {
    const out: EtcdKv[] = [];
    for await (const page of pages(client, prefixRange(prefix), 100)) out.push(...page);
    return out;
  }
  async function read(name: string): Promise<EtcdKv | undefined> {
    return (await readAll()).find((kv) => kv.key.toString() === key(name));
  }
  async function opened(name: string): Promise<{ text: string; stale: boolean }> {
    const kv = await read(name);
    assert.ok(kv, name);
    const r = await reader.forResource('secrets').transformer.fromStorage(kv.value, kv.key);
    return { text: Buffer.from(r.plaintext).subarray(4).toString(), stale: r.stale };
  }
  const run = (o: Partial<RewriteOptions> = {}) => new RewriteRun(client, reader, { prefix: '/registry/', ...o });

  before(async () => {
    etcd = await startEtcd();
    client = await connectEtcd({ endpoints: [etcd.endpoint] });
    dir = await tempDir('arca-rewrite-steps-');
    reader = build([GCM, CBC, { identity: {} }]);
    writers['current'] = build([GCM]);
    writers['stale'] = build([CBC]);
    writers['gone'] = build([GONE]);
  });
  after(async () => {
    client?.close();
    reader?.close();
    for (const w of Object.values(writers)) w.close();
    await etcd?.stop();
    await dir?.remove();
  });
  beforeEach(() => {
    prefix = `/registry/secrets/ns${++ns}/`;
  });

  describe('prepare', () => {
    it('re-encrypts a stale value with the first provider, bound to its key, and writes nothing', async () => {
      await put('stale', 's', 'one');
      const r = run();
      const kv = (await read('s'))!;
      const p = await r.prepare(kv);
      assert.ok(p);
      assert.equal(p.kv, kv);
      const again = await reader.forResource('secrets').transformer.fromStorage(p.out, kv.key);
      assert.deepEqual([Buffer.from(again.plaintext).toString(), again.stale], [plain('one').toString(), false]);
      assert.deepEqual((await read('s'))!.value, kv.value);
      assert.deepEqual(r.stats, { ...ZERO, scanned: 1 });
    });

    it('counts current and undecryptable values and skips them; ignores keys of other resources', async () => {
      await put('stale', 'a', 'a');
      await put('current', 'b', 'b');
      await put('gone', 'c', 'c');
      await client.put('/registry/configmaps/x/c1').value('{"kind":"ConfigMap"}');
      const r = run({ resources: ['secrets'] });
      const got = await Promise.all((await readAll()).map((kv) => r.prepare(kv)));
      assert.deepEqual(
        got.map((p) => p?.kv.key.toString()),
        [key('a'), undefined, undefined],
      );
      const cm = { key: Buffer.from('/registry/configmaps/x/c1'), value: Buffer.from('{}'), modRevision: '1' };
      assert.equal(await r.prepare(cm), undefined);
      assert.deepEqual(r.stats, { ...ZERO, scanned: 3, unchanged: 1, undecryptable: 1 });
    });

    it('in a dry run counts the stale value as rewritten and returns no write', async () => {
      await put('stale', 's', 'one');
      const r = run({ dryRun: true });
      assert.equal(await r.prepare((await read('s'))!), undefined);
      assert.deepEqual(r.stats, { ...ZERO, scanned: 1, rewritten: 1 });
    });
  });

  describe('commitBatch', () => {
    it('writes a whole batch in one transaction when no key changed', async () => {
      for (const n of ['a', 'b', 'c']) await put('stale', n, n);
      const r = run();
      const batch = (await Promise.all((await readAll()).map((kv) => r.prepare(kv)))).filter((p) => p !== undefined);
      await r.commitBatch(batch);
      assert.equal(r.stats.rewritten, 3);
      const after = await readAll();
      assert.equal(new Set(after.map((kv) => kv.modRevision)).size, 1, 'one transaction: one revision');
      for (const n of ['a', 'b', 'c']) assert.deepEqual(await opened(n), { text: n, stale: false });
    });

    it('when one key changed meanwhile writes nothing at once, then settles each key alone', async () => {
      for (const n of ['a', 'b', 'c']) await put('stale', n, n);
      const r = run();
      const batch = (await Promise.all((await readAll()).map((kv) => r.prepare(kv)))).filter((p) => p !== undefined);
      await put('current', 'b', 'the apiserver wrote this');
      await r.commitBatch(batch);
      assert.deepEqual(r.stats, { ...ZERO, scanned: 3, rewritten: 2, conflicts: 1 });
      assert.deepEqual(await opened('b'), { text: 'the apiserver wrote this', stale: false });
      assert.deepEqual(await opened('a'), { text: 'a', stale: false });
      assert.deepEqual(await opened('c'), { text: 'c', stale: false });
    });
  });

  describe('writeOne', () => {
    async function prepared(r: RewriteRun, name: string) {
      await put('stale', name, 'original');
      const p = await r.prepare((await read(name))!);
      assert.ok(p);
      return p;
    }

    it('counts a key deleted between read and write, and does not bring it back', async () => {
      const r = run();
      const p = await prepared(r, 's');
      await client.delete().key(key('s'));
      await r.writeOne(p.kv, p.out);
      assert.equal(r.stats.deleted, 1);
      assert.equal(await read('s'), undefined);
    });

    it('re-encrypts what another writer left when that is stale too: its plaintext, not ours', async () => {
      const r = run();
      const p = await prepared(r, 's');
      await put('stale', 's', 'newer, still stale');
      await r.writeOne(p.kv, p.out);
      assert.deepEqual(r.stats, { ...ZERO, scanned: 1, rewritten: 1 });
      assert.deepEqual(await opened('s'), { text: 'newer, still stale', stale: false });
    });

    const leftAlone: [string, Partial<RewriteOptions>, 'stale' | 'gone', Partial<RewriteStats>][] = [
      ['gives up after maxRetries conflicts and counts a failure', { maxRetries: 0 }, 'stale', { failed: 1 }],
      ['counts a value another writer left undecryptable', {}, 'gone', { undecryptable: 1 }],
    ];
    for (const [what, o, w, counted] of leftAlone) {
      it(`${what}; the other writer's value stays as it is`, async () => {
        const r = run(o);
        const p = await prepared(r, 's');
        await put(w, 's', 'written by someone else');
        const theirs = (await read('s'))!;
        await r.writeOne(p.kv, p.out);
        assert.deepEqual(r.stats, { ...ZERO, scanned: 1, ...counted });
        assert.deepEqual(await read('s'), theirs);
      });
    }
  });

  describe('checkpoint and settle', () => {
    it("writes a page's checkpoint only once its writes settled, with the counts and the page's last key", async () => {
      for (const n of ['a', 'b']) await put('stale', n, n);
      const stateFile = `${dir.path}/state-${ns}.json`;
      const progress: RewriteStats[] = [];
      const r = run({ keyPrefix: prefix, resources: ['secrets'], stateFile, onProgress: (s) => progress.push({ ...s }) });
      await r.page(0, await readAll());
      assert.equal(existsSync(stateFile), false, 'no checkpoint while the page is in flight');
      await r.settle();
      const st = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(
        { prefix: st['prefix'], resources: st['resources'], rangeIndex: st['rangeIndex'], lastKey: st['lastKey'], stats: st['stats'] },
        { prefix, resources: ['secrets'], rangeIndex: 0, lastKey: key('b'), stats: { ...ZERO, scanned: 2, rewritten: 2 } },
      );
      assert.deepEqual(progress, [{ ...ZERO, scanned: 2, rewritten: 2 }]);
      await r.finish();
      assert.equal(existsSync(stateFile), false, 'a finished run removes its state');
    });

    it('in a dry run reports progress but writes no state', async () => {
      const stateFile = `${dir.path}/dry-${ns}.json`;
      let reported = 0;
      const r = run({ stateFile, dryRun: true, onProgress: () => reported++ });
      await r.checkpoint(0, key('z'));
      assert.equal(reported, 1);
      assert.equal(existsSync(stateFile), false);
    });
  });
});
