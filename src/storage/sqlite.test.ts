import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/harness/index.ts';
import { exerciseStorage } from './conformance.ts';
import { SqliteStorage } from './sqlite.ts';

let dir: { path: string; remove(): Promise<void> };
let n = 0;
before(async () => {
  dir = await tempDir('arca-sqlite-');
});
after(async () => {
  await dir.remove();
});

exerciseStorage('sqlite', async () => SqliteStorage.open(`${dir.path}/conf-${n++}.db`));

describe('SqliteStorage', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('creates the database and its WAL owner-only (0600)', async () => {
    const s = SqliteStorage.openInDir(`${dir.path}/fresh`);
    try {
      await s.put('k', enc('v'));
      assert.equal(statSync(s.path).mode & 0o777, 0o600);
      assert.equal(statSync(`${s.path}-wal`).mode & 0o777, 0o600);
      assert.equal(statSync(`${dir.path}/fresh`).mode & 0o777, 0o700);
    } finally {
      await s.close();
    }
  });

  it('keeps data across close and reopen', async () => {
    const path = `${dir.path}/reopen.db`;
    const a = SqliteStorage.open(path);
    await a.put('x/y', enc('kept'));
    await a.close();
    const b = SqliteStorage.open(path);
    try {
      assert.equal(new TextDecoder().decode(await b.get('x/y')), 'kept');
      assert.deepEqual(await b.list('x/'), ['y']);
    } finally {
      await b.close();
    }
  });

  it('leaves the database in WAL journal mode', async () => {
    const path = `${dir.path}/pragma.db`;
    const s = SqliteStorage.open(path);
    await s.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('lists keys that contain U+10FFFF right after the prefix', async () => {
    const s = SqliteStorage.open(`${dir.path}/maxcp.db`);
    try {
      await s.put('p/\u{10FFFF}x', enc('1'));
      await s.put('p/\u{10FFFF}', enc('2'));
      await s.put('p0', enc('3'));
      assert.deepEqual(await s.list('p/'), ['\u{10FFFF}', '\u{10FFFF}x']);
    } finally {
      await s.close();
    }
  });

  it('fails with ERR_STORAGE_UNAVAILABLE when the file is not a database', async () => {
    const path = `${dir.path}/garbage.db`;
    writeFileSync(path, 'this is not a sqlite database, just some bytes that are long enough '.repeat(20));
    assert.throws(() => SqliteStorage.open(path), { code: 'ERR_STORAGE_UNAVAILABLE' });
  });

  it('fails with ERR_STORAGE_UNAVAILABLE after close', async () => {
    const s = SqliteStorage.open(`${dir.path}/closed.db`);
    await s.close();
    await assert.rejects(s.get('k'), { code: 'ERR_STORAGE_UNAVAILABLE' });
  });
});
