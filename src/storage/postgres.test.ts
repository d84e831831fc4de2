import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { dumpTable, freePort, type PostgresHandle, startPostgres } from '../../test/harness/index.ts';
import { isArcaError } from '../errors/index.ts';
import { exerciseStorage } from './conformance.ts';
import { PostgresStorage } from './postgres.ts';

let cluster: PostgresHandle;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster.stop();
});

exerciseStorage('postgres', async () => PostgresStorage.open({ url: await cluster.createDatabase() }));

describe('PostgresStorage', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('creates its table under the configured name and reuses it on reopen', async () => {
    const url = await cluster.createDatabase();
    const a = await PostgresStorage.open({ url, table: 'custom_kv' });
    await a.put('x/y', enc('kept'));
    await a.close();
    const b = await PostgresStorage.open({ url, table: 'custom_kv' });
    try {
      assert.equal(new TextDecoder().decode(await b.get('x/y')), 'kept');
      assert.match(await dumpTable(url, 'custom_kv'), /^x\/y\tkept$/);
    } finally {
      await b.close();
    }
  });

  it('lets replicas open the same fresh table at once (the CREATE race), and two see each other\'s writes', async () => {
    // Eight at once on each of 20 fresh databases: before the fix, about one open in 60 lost the
    // catalog race with 42710 (duplicate_object), so this fails nearly every run without it.
    for (let i = 0; i < 20; i++) {
      const fresh = await cluster.createDatabase();
      const all = await Promise.all(Array.from({ length: 8 }, () => PostgresStorage.open({ url: fresh })));
      for (const s of all) await s.close();
    }
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresStorage.open({ url }), PostgresStorage.open({ url })]);
    try {
      await a.put('shared', enc('1'));
      assert.equal(await b.putIf('shared', enc('2'), enc('1')), true);
      assert.equal(await a.putIf('shared', enc('3'), enc('1')), false);
      assert.equal(new TextDecoder().decode(await a.get('shared')), '2');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('orders and bounds listings byte-wise whatever the database collation', async () => {
    const url = await cluster.createDatabase();
    const s = await PostgresStorage.open({ url });
    try {
      for (const k of ['p/B', 'p/a', 'p/_', 'p/Z', 'p0', 'p/\u{10FFFF}x']) await s.put(k, enc(k));
      assert.deepEqual(await s.list('p/'), ['B', 'Z', '_', 'a', '\u{10FFFF}x']);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query("SELECT collation_name FROM information_schema.columns WHERE table_name = 'arca_kv' AND column_name = 'key'");
        assert.equal(r.rows[0]?.collation_name, 'C');
      } finally {
        await c.end();
      }
    } finally {
      await s.close();
    }
  });

  it('rejects a table name that is not a plain identifier', async () => {
    await assert.rejects(PostgresStorage.open({ url: cluster.url, table: 'kv; DROP TABLE x' }), { code: 'ERR_CONFIG_INVALID' });
    await assert.rejects(PostgresStorage.open({ url: cluster.url, table: 'Upper' }), { code: 'ERR_CONFIG_INVALID' });
  });

  it('reports an unreachable server as ERR_STORAGE_UNAVAILABLE without the password', async () => {
    const port = await freePort();
    const url = `postgres://arca:hunter2secret@127.0.0.1:${port}/arca`;
    await assert.rejects(PostgresStorage.open({ url, connectTimeoutMs: 2000 }), (err: unknown) => {
      assert.ok(isArcaError(err, 'ERR_STORAGE_UNAVAILABLE'));
      assert.doesNotMatch(err.message, /hunter2secret/);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/arca`));
      return true;
    });
  });

  it('reports a missing database as ERR_STORAGE_UNAVAILABLE', async () => {
    const url = cluster.url.replace(/\/postgres$/, '/does_not_exist');
    await assert.rejects(PostgresStorage.open({ url, password: 'pw-not-shown' }), (err: unknown) => {
      assert.ok(isArcaError(err, 'ERR_STORAGE_UNAVAILABLE'));
      assert.doesNotMatch(err.message, /pw-not-shown/);
      return true;
    });
  });

  it('fails with ERR_STORAGE_UNAVAILABLE after close', async () => {
    const s = await PostgresStorage.open({ url: await cluster.createDatabase() });
    await s.close();
    await assert.rejects(s.get('k'), { code: 'ERR_STORAGE_UNAVAILABLE' });
  });
});
