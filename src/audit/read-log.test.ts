import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/harness/index.ts';
import { FileDevice } from './devices/file.ts';
import { readAuditLog } from './read-log.ts';
import { generateAuditKeys } from './signing.ts';
import { openTestBroker, requestInput } from './test-util.ts';

describe('readAuditLog', () => {
  let dir: { path: string; remove(): Promise<void> };
  let logPath: string;
  let publicKey: string;
  let text: string;

  before(async () => {
    dir = await tempDir('arca-audit-read-');
    logPath = join(dir.path, 'audit.log');
    const broker = await openTestBroker({ ...generateAuditKeys(), spoolDir: join(dir.path, 'spool'), devices: [new FileDevice({ path: logPath })], checkpointEvery: 1000 });
    publicKey = broker.publicKey;
    for (let i = 0; i < 6; i++) await broker.log(requestInput(i, { password: `pw-secret-${i}` }));
    await broker.log({ ...requestInput(6), type: 'response', response: { status: 403 }, error: 'ERR_PERMISSION_DENIED: permission denied' });
    await broker.log({ ...requestInput(7), type: 'response', response: { status: 200, data: { ok: true } } });
    await broker.close(); // ends with a signed checkpoint
    text = await readFile(logPath, 'utf8');
  });
  after(() => dir.remove());

  it('answers the newest matching entries first, HMAC\'d as written, and a verified chain', async () => {
    const r = await readAuditLog(logPath, { limit: 3 }, publicKey);
    assert.deepEqual(r.entries.map((e) => (e['request'] as { id: string }).id), ['req-7', 'req-6', 'req-5']);
    assert.equal(r.limit_reached, true);
    assert.equal(r.verification.status, 'verified');
    assert.equal(r.verification.entries, text.trim().split('\n').length);
    const all = JSON.stringify((await readAuditLog(logPath, { limit: 1000 }, publicKey)).entries);
    assert.ok(!all.includes('pw-secret'), 'sensitive values stay HMAC\'d');
    assert.match(all, /hmac-sha256:/);
  });

  it('filters by type, operation, path prefix and errors only', async () => {
    const types = await readAuditLog(logPath, { limit: 100, type: 'response' }, publicKey);
    assert.deepEqual(types.entries.map((e) => e['type']), ['response', 'response']);
    assert.equal(types.limit_reached, false);
    const errs = await readAuditLog(logPath, { limit: 100, errorsOnly: true }, publicKey);
    assert.deepEqual(errs.entries.map((e) => (e['request'] as { id: string }).id), ['req-6']);
    const prefix = await readAuditLog(logPath, { limit: 100, pathPrefix: 'secret/data/app/3' }, publicKey);
    assert.deepEqual(prefix.entries.map((e) => (e['request'] as { id: string }).id), ['req-3']);
    assert.equal((await readAuditLog(logPath, { limit: 100, operation: 'read' }, publicKey)).entries.length, 0);
    assert.equal((await readAuditLog(logPath, { limit: 100, operation: 'update' }, publicKey)).entries.length, 8);
  });

  it('says unproven for an unsigned tail, ignoring a line still being written', async () => {
    const live = join(dir.path, 'live.log');
    const withoutLastCheckpoint = text.trim().split('\n').slice(0, -1).join('\n');
    await writeFile(live, `${withoutLastCheckpoint}\n{"seq":99,"ty`);
    const r = await readAuditLog(live, { limit: 10 }, publicKey);
    assert.equal(r.verification.status, 'unproven');
    assert.ok((r.verification.unsigned_entries ?? 0) > 0);
    assert.equal(r.entries.length, 8);
  });

  it('counts only the reading request\'s own entry after the last checkpoint as verified', async () => {
    const own = join(dir.path, 'own.log');
    const broker = await openTestBroker({ ...generateAuditKeys(), spoolDir: join(dir.path, 'spool-own'), devices: [new FileDevice({ path: own })] });
    await broker.log(requestInput(1));
    await broker.checkpoint();
    await broker.log({ ...requestInput(2), request: { ...requestInput(2).request, id: 'reader' } });
    assert.ok(await broker.flush());
    const r = await readAuditLog(own, { limit: 1, ownRequestId: 'reader' }, broker.publicKey);
    assert.equal(r.verification.status, 'verified');
    assert.equal(r.verification.own_request_unsigned, true);
    const other = await readAuditLog(own, { limit: 1, ownRequestId: 'someone-else' }, broker.publicKey);
    assert.equal(other.verification.status, 'unproven');
    assert.equal(other.verification.unsigned_entries, 1);
    await broker.close();
  });

  it('says tampered for a modified entry, naming the line but not quoting it', async () => {
    const bad = join(dir.path, 'bad.log');
    await writeFile(bad, text.replace('"secret/data/app/2"', '"secret/data/app/X"'));
    const r = await readAuditLog(bad, { limit: 10 }, publicKey);
    assert.equal(r.verification.status, 'tampered');
    assert.ok(r.verification.problem && r.verification.problem.line > 0);
    assert.ok(!r.verification.problem.reason.includes('app/X'));
  });

  it('says tampered for a log signed by another key', async () => {
    const r = await readAuditLog(logPath, { limit: 1 }, await openOtherKey());
    assert.equal(r.verification.status, 'tampered');
  });

  it('refuses a path that is not a readable regular file with a coded error', async () => {
    await assert.rejects(readAuditLog(join(dir.path, 'missing.log'), { limit: 1 }, publicKey), { code: 'ERR_INVALID_REQUEST' });
    await assert.rejects(readAuditLog(dir.path, { limit: 1 }, publicKey), { code: 'ERR_INVALID_REQUEST' });
    await appendFile(join(dir.path, 'empty.log'), '');
    const empty = await readAuditLog(join(dir.path, 'empty.log'), { limit: 1 }, publicKey);
    assert.deepEqual(empty.entries, []);
  });

  async function openOtherKey(): Promise<string> {
    const b = await openTestBroker({ ...generateAuditKeys(), spoolDir: join(dir.path, 'spool-other') });
    const k = b.publicKey;
    await b.close();
    return k;
  }
});
