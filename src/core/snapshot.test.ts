import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Barrier } from '../barrier/index.ts';
import { randomKey } from '../crypto/index.ts';
import { isArcaError } from '../errors/index.ts';
import { encodeSealRecord, SEAL_CONFIG_PATH } from '../seal/index.ts';
import { InmemStorage } from '../storage/index.ts';
import type { EngineRequest } from '../engines/index.ts';
import { CoreRoutes } from './core-routes.ts';
import { digestOf, parseSnapshot, SNAPSHOT_FORMAT } from './snapshot-file.ts';
import { registerSnapshot, restoreSnapshot, saveSnapshot, type SnapshotDeps } from './snapshot.ts';

type Doc = { format: string; created: string; init_id: string; storage: string; digest: string; sealed_digest: string; entries: [string, string][] };
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const SEAL = b64(encodeSealRecord({ v: 1, type: 'shamir', initId: 'init-1', createdAt: 0 }));

/** A document whose digest is right for its entries (what someone who edits a file can always make). */
function redigest(d: Doc): Doc {
  d.digest = digestOf(d.entries.map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])).toString('hex');
  return d;
}
const valid = (): Doc => redigest({
  format: SNAPSHOT_FORMAT,
  created: '2026-12-08T00:00:00.000Z',
  init_id: 'init-1',
  storage: 'sqlite',
  digest: '',
  sealed_digest: b64('sealed'),
  entries: [['core/keyring', b64('ring')], ['core/root-key', b64('root')], ['core/seal-config', SEAL], ['sys/token/id/a', b64('t')]],
});
const file = (doc: unknown) => gzipSync(JSON.stringify(doc));

async function refused(f: Uint8Array, why: RegExp): Promise<void> {
  await assert.rejects(parseSnapshot(f), (err: unknown) => {
    assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST'), String(err));
    assert.match(err.message, /^not an Arca snapshot \(/);
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /secret-value/, 'never quotes what it holds');
    return true;
  });
}

/** A store with a seal record and a real barrier over it, unsealed, and the deps a restore needs. */
async function server(): Promise<{ d: SnapshotDeps; raw: InmemStorage; reloads: number; seals: number; failReload: boolean }> {
  const raw = new InmemStorage();
  const rootKey = randomKey();
  const barrier = new Barrier(raw);
  await barrier.initialize(rootKey);
  await barrier.unseal(rootKey);
  await raw.put(SEAL_CONFIG_PATH, encodeSealRecord({ v: 1, type: 'shamir', initId: 'init-1', createdAt: 0 }));
  await raw.put('core/root-key', new Uint8Array([1]));
  await barrier.put('sys/policy/deny-x', new TextEncoder().encode('deny'));
  await barrier.put('sys/mounts', new TextEncoder().encode('[]'));
  const st = {
    raw, reloads: 0, seals: 0, failReload: false,
    d: {
      raw, barrier, storageType: 'inmem', now: () => Date.UTC(2026, 11, 8),
      reload: async () => {
        st.reloads++;
        if (st.failReload) throw new Error('engine factory failed');
      },
      seal: async () => {
        st.seals++;
      },
      lossesOf: async () => ({ lines: [], prefixes: [] }),
    } satisfies SnapshotDeps,
  };
  return st;
}

describe('snapshot files', () => {
  it('reads a snapshot: its init id and every entry, decoded', async () => {
    const s = await parseSnapshot(file(valid()));
    assert.equal(s.initId, 'init-1');
    assert.deepEqual([...s.entries.keys()], ['core/keyring', 'core/root-key', 'core/seal-config', 'sys/token/id/a']);
    assert.equal(Buffer.from(s.entries.get('core/root-key')!).toString(), 'root');
  });

  it('refuses, with a 400 saying why, whatever the store would otherwise choke on later', async () => {
    const with_ = (f: (d: Doc) => void) => {
      const d = valid();
      f(d);
      return file(redigest(d));
    };
    await refused(Buffer.from('secret-value, not gzip'), /not gzip data/);
    await refused(gzipSync('secret-value'), /not JSON inside/);
    await refused(with_((d) => (d.format = 'vault-raft')), /format is not arca-snapshot\/v1/);
    await refused(with_((d) => d.entries.push(['/abs', b64('x')])), /invalid storage key/);
    await refused(with_((d) => d.entries.push(['a\u0000b', b64('x')])), /invalid storage key/);
    await refused(with_((d) => d.entries.push(['', b64('x')])), /invalid storage key/);
    await refused(with_((d) => d.entries.push(['sys/token/id/a', b64('again')])), /appears twice/);
    await refused(with_((d) => d.entries.push(['k', 'secret-value!'])), /fields missing or malformed/);
    await refused(with_((d) => (d.entries = d.entries.filter(([k]) => k !== 'core/root-key'))), /seal records are missing/);
    await refused(with_((d) => (d.entries[2]![1] = b64('{"secret-value":1}'))), /seal configuration is malformed/);
    await refused(with_((d) => (d.init_id = 'init-2')), /header and seal configuration disagree/);
    const corrupt = valid();
    corrupt.entries[3]![1] = b64('u');
    await refused(file(corrupt), /do not match its digest/);
  });

  it('refuses a file of more entries than the bound, compact or not', async () => {
    const d = valid();
    for (let i = 0; i < 1_000_000; i++) d.entries.push([`k${i}`, '']);
    await refused(file(d), /more than 1000000 entries/);
    await refused(gzipSync(JSON.stringify(d, null, 1)), /more than 1000000 entries/);
  });

  it('refuses a small file that inflates past the bound, without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    assert.ok(bomb.length < 64 * 1024);
    await assert.rejects(parseSnapshot(bomb, 1024 * 1024), (err: unknown) => isArcaError(err, 'ERR_INVALID_REQUEST') && /larger than 1 MiB once decompressed/.test(err.message));
  });
});

describe('snapshot restore', () => {
  it('restores only a file this server wrote whole: an entry dropped or swapped, with the plain digest redone, is refused', async () => {
    const s = await server();
    const saved = JSON.parse(gunzipSync((await saveSnapshot(s.d)).bytes).toString()) as Doc;
    const before = await s.raw.snapshot();
    const tampered = (f: (d: Doc) => void) => {
      const d = structuredClone(saved);
      f(d);
      return file(redigest(d));
    };
    const cases = [
      tampered((d) => (d.entries = d.entries.filter(([k]) => !k.includes('deny-x')))),
      tampered((d) => {
        const deny = d.entries.find(([k]) => k.includes('deny-x'))!;
        d.entries.find(([k]) => k === 'sys/mounts')![1] = deny[1];
      }),
      tampered((d) => (d.created = '2030-01-01T00:00:00.000Z')),
    ];
    for (const f of cases) {
      await assert.rejects(restoreSnapshot(s.d, f), (err: unknown) => isArcaError(err, 'ERR_INVALID_REQUEST') && /not written whole by this server/.test(err.message));
    }
    assert.deepEqual(await s.raw.snapshot(), before, 'nothing written');
    assert.equal(s.reloads, 0);
    const r = await restoreSnapshot(s.d, file(saved));
    assert.deepEqual(r, { snapshot_created: '2026-12-08T00:00:00.000Z', written: 0, removed: 0, unchanged: 2, lost: [] });
  });

  it('fails with nothing changed when what the loss check read changes before the commit (a key rotated meanwhile)', async () => {
    const s = await server();
    await s.d.barrier.put('logical/t1/policy/kek', new TextEncoder().encode('v1'));
    const { bytes } = await saveSnapshot(s.d);
    await s.d.barrier.put('logical/t1/policy/kek', new TextEncoder().encode('v1 and v2'));
    let afterRotation: [string, Uint8Array][] = [];
    s.d.lossesOf = async () => {
      // The check reads the mount as it is now; a rotation lands right after it.
      await s.d.barrier.put('logical/t1/policy/kek', new TextEncoder().encode('v1, v2 and v3'));
      afterRotation = await s.raw.snapshot();
      return { lines: [], prefixes: ['logical/t1/'] };
    };
    await assert.rejects(restoreSnapshot(s.d, bytes), (err: unknown) => isArcaError(err, 'ERR_STORAGE_CONFLICT'));
    assert.deepEqual(await s.raw.snapshot(), afterRotation, 'nothing restored');
    assert.equal(new TextDecoder().decode(await s.d.barrier.get('logical/t1/policy/kek')), 'v1, v2 and v3');
    assert.equal(s.reloads, 0);
  });

  it('runs one restore at a time: a second one meanwhile is a conflict and changes nothing', async () => {
    const s = await server();
    const { bytes } = await saveSnapshot(s.d);
    let release: (() => void) | undefined;
    s.d.reload = () => new Promise<void>((resolve) => (release = resolve));
    const routes = new CoreRoutes();
    registerSnapshot(routes, s.d);
    const restore = routes.get('sys/storage/snapshot')!.handlers.update!;
    const req = { id: 'r', operation: 'update', path: 'sys/storage/snapshot', data: { snapshot: bytes.toString('base64') }, clientAddr: '127.0.0.1' } as unknown as EngineRequest;
    const first = restore(req);
    await assert.rejects(restore(req), (err: unknown) => isArcaError(err, 'ERR_STORAGE_CONFLICT') && /another snapshot restore is running/.test(err.message));
    while (!release) await new Promise((r) => setImmediate(r));
    release();
    assert.equal(((await first).data as { written: number }).written, 0);
    // Once the first is done, a restore runs again.
    s.d.reload = async () => {};
    assert.equal(((await restore(req)).data as { unchanged: number }).unchanged, 2);
  });

  it('seals the server when reloading from the restored store fails, instead of leaving it half-started', async () => {
    const s = await server();
    const { bytes } = await saveSnapshot(s.d);
    s.failReload = true;
    await assert.rejects(restoreSnapshot(s.d, bytes), (err: unknown) => isArcaError(err, 'ERR_INTERNAL') && /sealed itself/.test(err.message));
    assert.deepEqual([s.reloads, s.seals], [1, 1]);
  });
});
