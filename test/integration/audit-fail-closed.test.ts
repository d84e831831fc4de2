/**
 * Issue 3, fail closed through the real server: with no audit device and no spool able to persist
 * an entry, requests are refused with ERR_AUDIT_UNAVAILABLE (and a write is not applied); once the
 * device can write again (SIGHUP reopen), requests succeed again. The spool is made unusable by a
 * regular file where its directory belongs; the device by replacing its directory with a file and
 * sending SIGHUP (the log-rotation reopen) — both fail with ENOTDIR, even for root.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { tempDir, waitFor } from '../harness/index.ts';

describe('audit fails closed', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: string;

  before(async () => {
    dir = await tempDir();
    await mkdir(`${dir.path}/data`);
    await writeFile(`${dir.path}/data/audit-spool`, 'not a directory');
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    root = (await initUnsealed(srv)).root;
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('refuses requests with a coded error while nothing can persist the audit entry, and recovers', async () => {
    const c = srv.client(root);
    await mkdir(`${dir.path}/logs`);
    await c.write('sys/audit/file', { type: 'file', options: { file_path: `${dir.path}/logs/audit.log` } });
    assert.equal((await c.request('PUT', 'secret/data/before', { data: { v: '1' } })).status, 200);

    await rm(`${dir.path}/logs`, { recursive: true });
    await writeFile(`${dir.path}/logs`, 'the directory is gone');
    srv.child.kill('SIGHUP');
    // The reopen happens asynchronously after the signal: probe with reads until they are refused.
    await waitFor('requests refused', async () => ((await c.request('GET', 'secret/data/before')).status === 500 ? true : undefined), 20_000, 200);
    const refused = await c.request('PUT', 'secret/data/blocked', { data: { v: '2' } });
    assert.equal(refused.status, 500);
    const err = (refused.body as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'ERR_AUDIT_UNAVAILABLE');
    assert.match(err.message, /could not be audited/);
    assert.doesNotMatch(JSON.stringify(refused.body), /\n\s+at /, 'no stack trace to the client');
    assert.equal((await c.request('GET', 'secret/data/before')).status, 500, 'reads are refused too');

    await rm(`${dir.path}/logs`);
    await mkdir(`${dir.path}/logs`);
    srv.child.kill('SIGHUP');
    await waitFor('requests accepted again', async () => ((await c.request('GET', 'secret/data/before')).status === 200 ? true : undefined), 20_000, 200);
    assert.equal((await c.request('GET', 'secret/data/blocked')).status, 404, 'the refused write was not applied');
  });
});
