/**
 * Issue 20: `arca kms rotate` end to end on a real etcd, a real `arca kms-plugin` process and a real
 * dev server. Objects are written through the apiserver-side KMS v2 transformer under key v1; the
 * rotation is killed in the middle of the rewrite while a writer keeps updating objects, `--resume`
 * completes it: every object under v2, none lost or double-encrypted, the writer's updates kept,
 * v1 no longer decryptable by policy.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTransformers, type EncryptionTransformers, parseEncryptionConfig } from '../../src/k8s/encryption/index.ts';
import { connectEtcd, scan } from '../../src/k8s/etcd/index.ts';
import { startPlugin, type PluginProcess } from '../../src/kms-plugin/testing.ts';
import { ARCA_BIN, type ArcaProcess, startArca } from '../harness/arca.ts';
import { type EtcdHandle, startEtcd, tempDir, waitFor } from '../harness/index.ts';

const N = 120;
const keyOf = (i: number) => `/registry/secrets/ns${i % 3}/obj-${String(i).padStart(4, '0')}`;
const payload = (i: number, gen: number) => Buffer.from(`k8s\0\n\x02v1\x12\x06Secret obj-${i} generation ${gen}`);

function runCli(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const child = spawn(ARCA_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((r) => child.once('exit', (code, signal) => r({ code, signal, out })));
  return { child, done };
}

describe('arca kms rotate --retire, killed mid-rewrite and resumed, with a racing writer', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let plugin: PluginProcess;
  let etcd: EtcdHandle;
  let config: string;
  let t: EncryptionTransformers;
  const expected = new Map<string, Buffer>();
  let oldValue: Buffer;

  before(async () => {
    dir = await tempDir('arca-rotate-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', 'root-T'] });
    const c = srv.client('root-T');
    await c.write('transit/keys/k8s-kek', {});
    c.close();
    await writeFile(join(dir.path, 'token'), 'root-T\n', { mode: 0o600 });
    const socket = join(dir.path, 'kms.sock');
    plugin = await startPlugin(socket, ['--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', '300ms']);
    etcd = await startEtcd();
    config = join(dir.path, 'enc.yaml');
    const text = [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: EncryptionConfiguration',
      'resources:',
      '- resources: [secrets]',
      '  providers:',
      `  - kms: {apiVersion: v2, name: arca, endpoint: "unix://${socket}", timeout: 3s}`,
      '  - identity: {}',
    ].join('\n');
    await writeFile(config, text);
    t = buildTransformers(parseEncryptionConfig(text));
    await t.refreshKms();
    const ec = await connectEtcd({ endpoints: [etcd.endpoint] });
    const tr = t.forResource('secrets').transformer;
    for (let i = 0; i < N; i++) {
      const v = payload(i, 0);
      await ec.put(keyOf(i)).value(Buffer.from(await tr.toStorage(v, Buffer.from(keyOf(i)))));
      expected.set(keyOf(i), v);
    }
    oldValue = (await ec.get(keyOf(0)).buffer())!;
    ec.close();
  });
  after(async () => {
    t?.close();
    await plugin?.stop();
    await etcd?.stop();
    await srv?.stop();
    await dir?.remove();
  });

  it('rotates, survives SIGKILL during the rewrite, and --resume retires v1 with every object under v2', async () => {
    const state = join(dir.path, 'rotate.state.json');
    const args = [
      'kms', 'rotate', '--key', 'k8s-kek', '--addr', srv.addr, '--token', 'root-T', '--endpoints', etcd.endpoint,
      '--encryption-config', config, '--state-file', state, '--retire', '--page-size', '5', '--rate', '20', '--plugin-wait', '60s',
    ];

    // dry run changes nothing
    const dry = await runCli([...args, '--dry-run']).done;
    assert.equal(dry.code, 0, dry.out);
    assert.match(dry.out, /rotate-key: rotate the transit key: v1 → v2/);
    assert.equal(existsSync(state), false);

    const first = runCli(args);
    await waitFor('rewrite in progress', async () => {
      if (first.child.exitCode !== null) throw new Error(`rotation ended before it could be interrupted: ${(await first.done).out}`);
      return existsSync(`${state}.rewrite`) ? true : undefined;
    }, 120_000, 20);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(JSON.parse(readFileSync(state, 'utf8')).step, 'rewrite');

    // a writer updates some objects (as the apiserver would) while the resumed rewrite runs
    const ec = await connectEtcd({ endpoints: [etcd.endpoint] });
    const tr = t.forResource('secrets').transformer;
    let writing = true;
    const writer = (async () => {
      for (let gen = 1; writing && gen < 200; gen++) {
        await t.refreshKms();
        for (let i = 0; i < N; i += 10) {
          const v = payload(i, gen);
          await ec.put(keyOf(i)).value(Buffer.from(await tr.toStorage(v, Buffer.from(keyOf(i)))));
          expected.set(keyOf(i), v);
        }
      }
    })();
    const resumed = await runCli([...args, '--resume']).done;
    writing = false;
    await writer;
    // the writer's last writes may postdate the proof scan; they used the current key (v2) anyway
    assert.equal(resumed.code, 0, resumed.out);
    assert.match(resumed.out, /resuming at step rewrite/);
    assert.match(resumed.out, /done: key v1 → v2, old versions retired/);

    const c = srv.client('root-T');
    const key = (await c.read('transit/keys/k8s-kek')).body['data'] as { latest_version: number; min_decryption_version: number; version_ids: Record<string, string> };
    c.close();
    assert.equal(key.latest_version, 2, 'rotated exactly once despite the restart');
    assert.equal(key.min_decryption_version, 2);
    const v2 = key.version_ids['2']!;

    // every object under v2, decrypting (once) to exactly what was last written
    await t.refreshKms();
    const report = await scan(ec, t, { prefix: '/registry/', resources: ['secrets'] });
    assert.equal(report.total, N, 'no object lost');
    assert.equal(report.byState.current, N, JSON.stringify(report.byState));
    assert.deepEqual(Object.keys(report.byProvider['kms-v2'] ?? {}), [`arca key_id=${v2}`]);
    for (const [k, want] of expected) {
      const stored = (await ec.get(k).buffer())!;
      const got = await tr.fromStorage(stored, Buffer.from(k));
      assert.deepEqual(Buffer.from(got.plaintext), want, `${k} holds a different value (lost update or double encryption)`);
    }

    // the v1 copy is no longer decryptable: the plugin refuses its key_id by policy (a fresh
    // transformer, as a restarted apiserver: the test's own one still caches the v1 seed by design)
    // A restarted plugin and apiserver (no caches on either side) must be refused v1 by policy.
    // The running plugin's own pruning of cached v1 seeds within a refresh is kms-plugin.test.ts's
    // "min_decryption_version stops cached old versions" (this end-to-end run saw it lag here under
    // a loaded full suite: see the closing note of 2026-12-07).
    const pluginArgs = ['--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', '300ms'];
    await plugin.stop();
    plugin = await startPlugin(plugin.socket, pluginArgs);
    const fresh = buildTransformers(parseEncryptionConfig(readFileSync(config, 'utf8')));
    try {
      const err = await waitFor('v1 refused', async () => {
        try {
          await fresh.forResource('secrets').transformer.fromStorage(oldValue, Buffer.from(keyOf(0)));
          return undefined;
        } catch (e) {
          return e as { code?: string };
        }
      }, 30_000, 200);
      assert.ok(err.code, 'refused with a coded error');
      // and the current objects still decrypt through the same fresh path
      const cur = await fresh.forResource('secrets').transformer.fromStorage((await ec.get(keyOf(1)).buffer())!, Buffer.from(keyOf(1)));
      assert.deepEqual(Buffer.from(cur.plaintext), expected.get(keyOf(1)));
    } finally {
      fresh.close();
    }
    ec.close();
    const done = JSON.parse(readFileSync(state, 'utf8'));
    assert.equal(done.step, 'done');
    assert.equal(done.retired, true);
    assert.equal(done.proof.stale + done.proof.plaintext + done.proof.undecryptable, 0);
  });

  it('a failing step stops with the step, the reason and the command to continue; --resume after the fix completes', async () => {
    const state = join(dir.path, 'rotate2.state.json');
    const base = ['kms', 'rotate', '--key', 'k8s-kek', '--addr', srv.addr, '--token', 'root-T', '--endpoints', etcd.endpoint, '--encryption-config', config, '--state-file', state];
    const bogus = join(dir.path, 'no-plugin.sock');
    const failed = await runCli([...base, '--plugin-socket', bogus, '--plugin-wait', '1s']).done;
    assert.equal(failed.code, 2, failed.out);
    assert.match(failed.out, /error: step wait-plugins failed: still not on the new key_id after 1 s/);
    assert.match(failed.out, new RegExp(`continue with: arca kms rotate --key k8s-kek .*--plugin-socket ${bogus.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*--resume`));
    assert.ok(!failed.out.includes('root-T'), 'the token is not echoed into the continue command');
    assert.equal(JSON.parse(readFileSync(state, 'utf8')).step, 'wait-plugins');

    // a new rotation is refused while this one is unfinished, and so is a resume for another key
    const again = await runCli(base).done;
    assert.equal(again.code, 1, again.out);
    assert.match(again.out, /in progress .* --resume/);
    const other = await runCli([...base.map((a) => (a === 'k8s-kek' ? 'other-kek' : a)), '--resume']).done;
    assert.equal(other.code, 1, other.out);

    // fixed (the real plugin socket from the config): --resume finishes without rotating again
    const resumed = await runCli([...base, '--resume']).done;
    assert.equal(resumed.code, 0, resumed.out);
    assert.match(resumed.out, /resuming at step wait-plugins/);
    assert.match(resumed.out, /v2 stays decryptable \(run again with --resume --retire/);
    const c = srv.client('root-T');
    const key = (await c.read('transit/keys/k8s-kek')).body['data'] as { latest_version: number; min_decryption_version: number };
    c.close();
    assert.equal(key.latest_version, 3);
    assert.equal(key.min_decryption_version, 2, 'nothing retired without --retire');
  });
});
