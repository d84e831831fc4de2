/**
 * Issue 3 through the real server: secrets, plaintexts and tokens never reach the audit log, the
 * server log or the data dir — their HMACs do; a blocked audit device (a FIFO nobody reads) does not
 * stall requests, and its entries arrive once a reader appears; `arca audit verify` accepts the log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ARCA_BIN, type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { tempDir, treeText, waitFor } from '../harness/index.ts';


describe('audit through the server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: string;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    root = (await initUnsealed(srv)).root;
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('writes HMACs, never the values, to the audit log, and nothing secret elsewhere', async () => {
    const c = srv.client(root);
    const log = `${dir.path}/audit.log`;
    await c.write('sys/audit/file', { type: 'file', options: { file_path: log } });
    const secret = 'KV-SECRET-7b3e9c';
    const plaintext = 'TRANSIT-PLAINTEXT-d41f0a';
    await c.write('secret/data/app', { data: { password: secret } });
    await c.read('secret/data/app');
    await c.write('transit/keys/k', {});
    const ct = (await c.write('transit/encrypt/k', { plaintext: Buffer.from(plaintext).toString('base64') })).body['data'] as { ciphertext: string };
    await c.write('transit/decrypt/k', { ciphertext: ct.ciphertext });
    const child = ((await c.write('auth/token/create', { policies: ['default'] })).body['auth'] as { client_token: string }).client_token;
    await srv.client(child).read('auth/token/lookup-self');

    const hash = async (v: string) => ((await c.write('sys/audit-hash/file', { input: v })).body['data'] as { hash: string }).hash;
    const audit = await waitFor('audit entries', async () => {
      const t = await readFile(log, 'utf8').catch(() => '');
      return t.split('\n').length > 12 ? t : undefined;
    });
    const b64 = Buffer.from(plaintext).toString('base64');
    for (const needle of [secret, plaintext, b64, root, child]) {
      assert.equal(audit.includes(needle), false, `audit log leaks ${needle.slice(0, 12)}`);
      assert.equal(srv.output().includes(needle), false, `server log leaks ${needle.slice(0, 12)}`);
    }
    assert.ok(audit.includes(await hash(secret)), 'the KV value appears as its HMAC');
    assert.ok(audit.includes(await hash(b64)), 'the transit plaintext appears as its HMAC');
    assert.ok(audit.includes(await hash(child)), 'the issued token appears as its HMAC');
    const stored = await treeText(`${dir.path}/data`);
    for (const needle of [secret, plaintext, b64, root, child]) assert.equal(stored.includes(needle), false, `data dir leaks ${needle.slice(0, 12)}`);

  });

  it('keeps serving when the file device blocks (FIFO without reader) and delivers later', async () => {
    const c = srv.client(root);
    const fifo = `${dir.path}/audit.fifo`;
    await promisify(execFile)('mkfifo', [fifo]);
    await c.write('sys/audit/fifo', { type: 'file', options: { file_path: fifo } });
    // No reader exists yet: were requests waiting for the device, these writes would never finish.
    for (let i = 0; i < 50; i++) await c.write(`secret/data/fifo/${i}`, { data: { i: String(i) } });
    let got = '';
    const reader = createReadStream(fifo, { encoding: 'utf8' });
    reader.on('data', (d) => (got += String(d)));
    await waitFor('fifo entries', async () => (got.includes('secret/data/fifo/49') ? true : undefined), 20_000, 100);
    reader.destroy();
    const paths = [...got.matchAll(/"path":"secret\/data\/fifo\/(\d+)"/g)].map((m) => Number(m[1]));
    const firsts = paths.filter((p, i) => paths.indexOf(p) === i);
    assert.deepEqual(firsts, [...Array(50).keys()], 'entries arrive complete and in order');
    await c.delete('sys/audit/fifo');
  });

  it('reports a live log\'s unsigned tail as not proven (exit 3) until `arca audit checkpoint` signs it (sudo)', async () => {
    const c = srv.client(root);
    const log = `${dir.path}/audit.log`;
    await c.write('secret/data/live', { data: { v: 'x' } });
    const verify = () => promisify(execFile)(ARCA_BIN, ['audit', 'verify', log]).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    const env = { ...process.env, ARCA_ADDR: srv.addr, ARCA_TOKEN: root };
    await waitFor('the write in the log', async () => ((await readFile(log, 'utf8')).includes('secret/data/live') ? true : undefined));
    const live = await verify();
    assert.equal(live.code, 3, live.stdout + live.stderr);
    assert.match(live.stdout, /^NOT PROVEN: /);
    assert.doesNotMatch(live.stdout, /TAMPERED/);
    // A token without sudo on sys/audit-checkpoint is refused.
    await c.write('sys/policy/cp-update', { rules: 'path "sys/audit-checkpoint" { capabilities = ["update"] }' });
    const plain = ((await c.write('auth/token/create', { policies: ['cp-update'] })).body['auth'] as { client_token: string }).client_token;
    assert.equal((await srv.client(plain).request('PUT', 'sys/audit-checkpoint', {})).status, 403);
    const cp = await promisify(execFile)(ARCA_BIN, ['audit', 'checkpoint'], { env });
    assert.match(cp.stdout, /^checkpoint written to 1 audit device/);
    // Spooled durably before the command returned; the device itself gets it from the spool.
    await waitFor('a verified log', async () => ((await verify()).code === 0 ? true : undefined), 15_000, 200);
    assert.match((await verify()).stdout, /^ok: /);
  });

  it('leaves a log that `arca audit verify` accepts after a clean stop, and rejects once altered', async () => {
    await srv.stop();
    const log = `${dir.path}/audit.log`;
    const ok = await promisify(execFile)(ARCA_BIN, ['audit', 'verify', log]);
    assert.match(ok.stdout, /^ok: /);
    const text = await readFile(log, 'utf8');
    const i = text.indexOf('secret/data/app');
    await writeFile(log, text.slice(0, i) + 'S' + text.slice(i + 1));
    const bad = await promisify(execFile)(ARCA_BIN, ['audit', 'verify', log]).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
    assert.ok(bad, 'verify must fail on an altered log');
    assert.equal(bad.code, 1);
  });
});

