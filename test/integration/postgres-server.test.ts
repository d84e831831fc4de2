/**
 * Issue 2: the server on PostgreSQL — secrets written through the API are not in the table in
 * plaintext, and a restart reads them back after unsealing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { dumpTable, type PostgresHandle, startPostgres, tempDir } from '../harness/index.ts';

describe('server on PostgreSQL', () => {
  let pg: PostgresHandle;
  let url: string;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess | undefined;
  const start = () => startArca({ config: { storage: { type: 'postgres', url } }, configDir: dir.path });

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
});
