/**
 * `GET sys/audit-log` against a real server with a file audit device: recent entries (HMAC'd as
 * written), filters, the chain's verification status (unproven while live, verified after
 * sys/audit-checkpoint, tampered after an edit), sudo required, bad queries coded.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type Gov, startGov } from './governance-kit.ts';

type Body = Record<string, unknown>;
interface Answer {
  device: string;
  entries: { type: string; request: { path: string; operation: string; data: Body | null }; response?: { status: number } | null; error?: string }[];
  limit_reached: boolean;
  verification: { status: string; entries: number; unsigned_entries?: number; problem?: { line: number } };
}
const errCode = (r: { body: Body }) => (r.body['error'] as { code?: string } | undefined)?.code;

describe('sys/audit-log (real server, file device)', () => {
  let g: Gov;
  const read = async (query = '') => {
    const r = await g.root.request('GET', `sys/audit-log${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body['data'] as Answer;
  };

  before(async () => {
    g = await startGov();
    await g.root.write('secret/data/app/db', { data: { password: 'hunter2-audit-log' } });
    await g.root.request('GET', 'secret/data/nope');
  });
  after(async () => g?.close());

  it('answers recent entries newest first with sensitive values HMAC\'d, and an unproven live chain', async () => {
    const r = await read('?limit=1000');
    assert.equal(r.device, 'file/');
    const write = r.entries.find((e) => e.request.path === 'secret/data/app/db' && e.type === 'request');
    assert.ok(write, 'the write is in the log');
    assert.ok(!JSON.stringify(r).includes('hunter2-audit-log'), 'the secret value stays HMAC\'d');
    const idx = (p: string) => r.entries.findIndex((e) => e.request.path === p);
    assert.ok(idx('secret/data/nope') < idx('secret/data/app/db'), 'newest first');
    assert.equal(r.verification.status, 'unproven');
    assert.ok((r.verification.unsigned_entries ?? 0) > 0);
  });

  it('filters by type, operation, path prefix and errors only, and honours limit', async () => {
    const errs = await read('?errors_only=true&type=response');
    assert.ok(errs.entries.length >= 1);
    assert.ok(errs.entries.every((e) => e.type === 'response' && (e.error !== undefined || (e.response?.status ?? 0) >= 400)));
    assert.ok(errs.entries.some((e) => e.request.path === 'secret/data/nope'));
    const first = (await read('?path_prefix=secret/data/app/')).entries[0];
    const writeOp = first?.request.operation; // as the core audits it
    assert.ok(writeOp, JSON.stringify(first));
    const pre = await read(`?path_prefix=secret/&operation=${writeOp}`);
    assert.equal(pre.entries.length, 2, 'the write\'s request and response');
    assert.ok(pre.entries.every((e) => e.request.path === 'secret/data/app/db' && e.request.operation === writeOp));
    const one = await read('?limit=1');
    assert.equal(one.entries.length, 1);
    assert.equal(one.limit_reached, true);
  });

  it("records how many entries a read returned, not the entries again (each read would hold every earlier read's answer)", async () => {
    for (let i = 0; i < 4; i++) await read('?limit=1000');
    const lines = (await readFile(g.auditLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; request: { path: string }; response?: { data?: Body } });
    const reads = lines.filter((l) => l.type === 'response' && l.request.path === 'sys/audit-log').slice(-4);
    assert.equal(reads.length, 4);
    for (const e of reads) {
      const data = (e.response?.data as { data?: Body } | undefined)?.data as { entries?: unknown; entries_returned?: unknown; device?: unknown } | undefined;
      assert.equal(data?.entries, undefined, 'the entries are not audited again');
      assert.equal(typeof data?.entries_returned, 'string', 'the count is recorded (HMAC\'d like every audited leaf)');
      assert.ok(data?.device !== undefined);
    }
    // Without the entries, a read's entry stays the same size however many reads came before it.
    const sizes = reads.map((e) => JSON.stringify(e).length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) < 200, `entry sizes ${sizes.join(', ')}`);
  });

  it('says verified after a checkpoint and tampered after an edit', async () => {
    await g.root.write('sys/audit-checkpoint', {});
    // This read's own request entry lands after the checkpoint: it does not make the log unproven.
    const r = await read();
    assert.equal(r.verification.status, 'verified', JSON.stringify(r.verification));
    const text = await readFile(g.auditLog, 'utf8');
    await writeFile(g.auditLog, text.replace('"secret/data/app/db"', '"secret/data/app/dB"'));
    const t = await read();
    assert.equal(t.verification.status, 'tampered');
    assert.ok((t.verification.problem?.line ?? 0) > 0);
  });

  it('needs sudo, and refuses bad queries with coded errors', async () => {
    await g.root.write('sys/policies/acl/audit-no-sudo', { policy: 'path "sys/audit-log" { capabilities = ["read"] }' });
    const plain = await g.login('auditor', undefined, ['audit-no-sudo']);
    const denied = await g.client(plain.token).request('GET', 'sys/audit-log');
    assert.equal(denied.status, 403);
    assert.equal(errCode(denied), 'ERR_PERMISSION_DENIED');
    const big = await g.root.request('GET', 'sys/audit-log?limit=5000');
    assert.equal(big.status, 400);
    assert.equal(errCode(big), 'ERR_FIELD_OUT_OF_RANGE');
    const badType = await g.root.request('GET', 'sys/audit-log?type=header');
    assert.equal(badType.status, 400);
    const missing = await g.root.request('GET', 'sys/audit-log?device=nope');
    assert.equal(missing.status, 404);
    assert.equal(errCode(missing), 'ERR_NOT_FOUND');
    // Two file devices: the query must name one.
    await g.root.write('sys/audit/second', { type: 'file', options: { file_path: `${g.auditLog}.2` } });
    const ambiguous = await g.root.request('GET', 'sys/audit-log');
    assert.equal(errCode(ambiguous), 'ERR_INVALID_REQUEST');
    assert.equal((await g.root.request('GET', 'sys/audit-log?device=second')).status, 200);
  });
});
