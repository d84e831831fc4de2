/**
 * Issue 2: the server on PostgreSQL — secrets written through the API are not in the table in
 * plaintext, a restart reads them back after unsealing, and the expiry sweep removes an expired
 * token's rows from the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, lastSweepAt, startArca } from '../harness/arca.ts';
import { dumpTable, type PostgresHandle, startPostgres, tempDir, waitFor } from '../harness/index.ts';

describe('server on PostgreSQL', () => {
  let pg: PostgresHandle;
  let url: string;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess | undefined;
  let root = '';
  // One scheduled sweep a day: the tidy test must be the only way its token can leave the table.
  const start = () => startArca({ config: { storage: { type: 'postgres', url }, expirySweep: { intervalSeconds: 86_400 } }, configDir: dir.path });

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    dir = await tempDir();
  });
  after(async () => {
    await srv?.stop();
    await pg?.stop();
    await dir?.remove();
  });

  it('keeps no plaintext secret, key or token in the table', async () => {
    srv = await start();
    const init = (await srv.client().write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as { keys: string[]; keys_base64: string[]; root_token: string };
    for (const k of init.keys.slice(0, 2)) await srv.client().write('sys/unseal', { key: k });
    root = init.root_token;
    const c = srv.client(init.root_token);
    const marker = 'PG-MARKER-5f7c2e9a';
    await c.write('secret/data/db', { data: { password: marker } });
    const tok = (await c.write('auth/token/create', { policies: ['x'] })).body as { auth: { client_token: string } };
    const dump = await dumpTable(url, 'arca_kv');
    assert.ok(dump.length > 500, 'table has rows');
    for (const needle of [marker, init.root_token, tok.auth.client_token, ...init.keys, ...init.keys_base64]) {
      assert.equal(dump.includes(needle), false, `plaintext in table: ${needle.slice(0, 10)}…`);
    }
    await srv.stop();
    srv = await start();
    assert.equal((await srv.client().read('sys/seal-status')).body['sealed'], true);
    for (const k of init.keys.slice(1)) await srv.client().write('sys/unseal', { key: k });
    const r = (await srv.client(init.root_token).read('secret/data/db')).body as { data: { data: { password: string } } };
    assert.equal(r.data.data.password, marker);
  });

  it('sweeps an expired token out of the table (auth/token/tidy: list, read and one-commit revoke on PostgreSQL)', async () => {
    const c = srv!.client(root);
    const accessors = async () => ((await c.request('LIST', 'auth/token/accessors')).body['data'] as { keys: string[] }).keys;
    // The scheduled sweep runs at the first tick, then once a day (the config above): after that
    // first one, only the tidy can remove the token.
    await waitFor('the first scheduled sweep', async () => ((await lastSweepAt(c)) > 0 ? true : undefined), 60_000, 250);
    const short = ((await c.write('auth/token/create', { policies: ['x'], ttl: '1s' })).body['auth'] as { accessor: string }).accessor;
    const live = ((await c.write('auth/token/create', { policies: ['x'], ttl: '1h' })).body['auth'] as { accessor: string }).accessor;
    const rows = async () => (await dumpTable(url, 'arca_kv')).split('\n').filter((l) => l.includes(short)).length;
    assert.equal(await rows(), 1, 'the accessor index row is there (its key names the accessor)');
    await new Promise((r) => setTimeout(r, 2100)); // expire without a lookup (a lookup would revoke it)
    assert.equal((await c.write('auth/token/tidy', {})).status, 202);
    await waitFor('the sweep to remove the expired token', async () => ((await accessors()).includes(short) ? undefined : true), 60_000, 100);
    assert.equal(await rows(), 0, 'gone from the table, not only from the listing');
    assert.ok((await accessors()).includes(live));
  });
});
