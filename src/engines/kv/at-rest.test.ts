import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dumpTable, type PostgresHandle, startPostgres, tempDir } from '../../../test/harness/index.ts';
import { Barrier } from '../../barrier/index.ts';
import { randomKey } from '../../crypto/index.ts';
import { isArcaError } from '../../errors/index.ts';
import { PostgresStorage, SqliteStorage, type Storage, StorageView } from '../../storage/index.ts';
import { kit } from './test-kit.ts';

const MARKER = 'ARCA-KV-PLAINTEXT-MARKER-7f3a9c';

async function barrierView(raw: Storage): Promise<Storage> {
  const root = randomKey();
  const b = new Barrier(raw);
  await b.initialize(root);
  await b.unseal(root);
  return new StorageView(b, 'logical/kv-test/');
}

/** Writes, patches and annotates a secret carrying MARKER, then races writers on real storage. */
async function exercise(storage: Storage): Promise<void> {
  const k = kit(storage);
  await k.call('update', 'metadata/app/db', { custom_metadata: { note: `${MARKER}-meta` } });
  await k.data('update', 'data/app/db', { data: { password: `${MARKER}-v1` } });
  await k.data('patch', 'data/app/db', { data: { token: `${MARKER}-v2` } });
  assert.deepEqual((await k.data('read', 'data/app/db'))['data'], { password: `${MARKER}-v1`, token: `${MARKER}-v2` });

  const race = await Promise.allSettled(['a', 'b'].map((w) => k.call('update', 'data/race', { data: { w }, options: { cas: 0 } })));
  assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = race.find((r) => r.status === 'rejected');
  assert.ok(lost?.status === 'rejected' && isArcaError(lost.reason, 'ERR_INVALID_REQUEST'));

  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => k.data('update', 'data/many', { data: { i } })));
  assert.deepEqual(many.map((r) => r['version']).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 20 }, (_, i) => i + 1));
}

describe('kv at rest (barrier over real storage)', () => {
  let pg: PostgresHandle;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  it('keeps no plaintext in the SQLite files and serialises concurrent writers', async () => {
    const dir = await tempDir();
    try {
      const raw = SqliteStorage.openInDir(dir.path);
      await exercise(await barrierView(raw));
      await raw.close();
      const files = await readdir(dir.path);
      assert.ok(files.length > 0);
      for (const f of files) {
        const bytes = await readFile(join(dir.path, f));
        assert.equal(bytes.includes(MARKER), false, `plaintext found in ${f}`);
      }
    } finally {
      await dir.remove();
    }
  });

  it('keeps no plaintext in the PostgreSQL table and serialises concurrent writers', async () => {
    const url = await pg.createDatabase();
    const raw = await PostgresStorage.open({ url });
    try {
      await exercise(await barrierView(raw));
    } finally {
      await raw.close();
    }
    const dump = await dumpTable(url, 'arca_kv');
    assert.match(dump, /logical\/kv-test\/metadata\/app\/db/);
    assert.equal(dump.includes(MARKER), false);
  });
});
