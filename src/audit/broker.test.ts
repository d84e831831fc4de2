import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { isArcaError } from '../errors/index.ts';
import { execFileP, tempDir, waitFor } from '../../test/harness/index.ts';
import { FileDevice } from './devices/file.ts';
import { SocketDevice } from './devices/socket.ts';
import { StdoutDevice } from './devices/stdout.ts';
import type { AuditDevice } from './devices/types.ts';
import { auditChainRestarts, auditCheckpointFailures } from './metrics.ts';
import { generateAuditKeys } from './signing.ts';
import { openTestBroker, requestInput } from './test-util.ts';
import { verifyLog } from './verify.ts';

const SECRET = 'correct-horse-battery-staple-7731';
const TOKEN = 'hvs.CAESIJ8test0token0value0zz';
const PLAINTEXT = Buffer.from('card=4111111111111111').toString('base64');

type Line = { seq: number; type: string; request?: { id: string; data: unknown }; response?: { data: unknown } };
const parseLines = (text: string): Line[] => text.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('AuditBroker', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir('arca-audit-broker-');
  });
  after(() => dir.remove());
  let n = 0;
  const sub = async () => {
    const p = join(dir.path, `t${++n}`);
    await mkdir(p);
    return p;
  };

  it('never writes a secret, token or plaintext to the log, only their HMACs', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const b = await openTestBroker({ spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(1, { data: { password: SECRET } }));
    await b.log({
      type: 'response',
      request: { id: 'r2', operation: 'update', path: 'auth/token/create', clientAddr: '10.1.2.3' },
      response: { status: 200, data: { auth: { client_token: TOKEN, accessor: 'acc-9' } } },
    });
    await b.log({
      type: 'request',
      request: { id: 'r3', operation: 'update', path: 'transit/encrypt/k', clientAddr: '10.1.2.3', data: { plaintext: PLAINTEXT } },
    });
    await b.log({
      type: 'request',
      request: { id: 'r4', operation: 'create', path: 'kv1/app', clientAddr: '10.1.2.3', data: { anything: SECRET } },
      sensitiveFields: ['*'],
    });
    const hashes = [b.hash(SECRET), b.hash(TOKEN), b.hash(PLAINTEXT)];
    await b.close();
    const text = await readFile(logPath, 'utf8');
    for (const s of [SECRET, TOKEN, PLAINTEXT]) assert.ok(!text.includes(s), 'plaintext value found in the audit log');
    for (const h of hashes) assert.ok(text.includes(h), `missing ${h}`);
    assert.ok(text.includes('acc-9'), 'accessors stay readable');
    // and not in the spool either
    // grep exits 1 when nothing matches; any other failure (missing grep, unreadable dir) is an error.
    const { stdout } = await execFileP('grep', ['-rl', SECRET, d]).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 1) return { stdout: '' };
      throw err;
    });
    assert.equal(stdout, '');
    assert.equal(verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }], { publicKey: b.publicKey }).ok, true);
  });

  it('does not wait for a FIFO device nobody reads, then delivers in order', async () => {
    const d = await sub();
    const fifo = join(d, 'audit.fifo');
    await execFileP('mkfifo', [fifo]);
    const b = await openTestBroker({ spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: fifo })] });
    // No reader exists yet: were log() waiting for the device, this loop would never finish (the
    // condition, rather than a time bound that flakes on a loaded machine).
    for (let i = 0; i < 200; i++) await b.log(requestInput(i, { data: { password: SECRET } }));
    assert.equal(b.status()[0]!.drained, false);

    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.on('data', (c) => chunks.push(Buffer.from(c)));
    const got = await waitFor('entries through the FIFO', async () => {
      const ls = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      return ls.length >= 201 ? ls : undefined;
    }, 15_000);
    const entries = got.map((l) => JSON.parse(l) as Line);
    assert.equal(entries[0]!.type, 'header');
    assert.deepEqual(
      entries.filter((e) => e.type === 'request').map((e) => e.request!.id),
      Array.from({ length: 200 }, (_, i) => `req-${i}`),
    );
    assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i + 1));
    reader.destroy();
    await b.close(500);
  });

  it('fails closed with ERR_AUDIT_UNAVAILABLE when neither the device nor the spool can persist', async () => {
    const d = await sub();
    const notADir = join(d, 'file');
    await writeFile(notADir, 'x');
    const b = await openTestBroker({
      spoolDir: join(notADir, 'spool'),
      devices: [new FileDevice({ path: join(notADir, 'audit.log') })],
      directTimeoutMs: 300,
    }).catch((err: unknown) => err);
    // the start header already cannot be persisted
    assert.ok(isArcaError(b, 'ERR_AUDIT_UNAVAILABLE'), String(b));
  });

  it('rejects log() with ERR_AUDIT_UNAVAILABLE once the only device and spool fail', async () => {
    const d = await sub();
    const notADir = join(d, 'file');
    await writeFile(notADir, 'x');
    const b = await openTestBroker({ spoolDir: join(notADir, 'spool'), directTimeoutMs: 300 });
    await assert.rejects(b.addDevice(new FileDevice({ path: join(notADir, 'audit.log') })), (err: unknown) => isArcaError(err, 'ERR_AUDIT_UNAVAILABLE'));
    await assert.rejects(b.log(requestInput(1)), (err: unknown) => isArcaError(err, 'ERR_AUDIT_UNAVAILABLE'));
    await b.close(100);
    await assert.rejects(b.log(requestInput(2)), (err: unknown) => isArcaError(err, 'ERR_AUDIT_UNAVAILABLE'));
  });

  it('writes straight to the device when the spool is unusable', async () => {
    const d = await sub();
    const notADir = join(d, 'file');
    await writeFile(notADir, 'x');
    const logPath = join(d, 'audit.log');
    const b = await openTestBroker({ spoolDir: join(notADir, 'spool'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(1));
    assert.equal(b.status()[0]!.spool, false);
    const text = await readFile(logPath, 'utf8');
    assert.ok(text.includes('req-1'), 'log() resolved before the device had the line');
    await b.close();
  });

  it('succeeds while one of two devices is down', async () => {
    const d = await sub();
    const good = join(d, 'good.log');
    const b = await openTestBroker({
      spoolDir: join(d, 'spool'),
      devices: [new FileDevice({ name: 'bad/', path: join(d, 'missing-dir', 'a.log') }), new FileDevice({ name: 'good/', path: good })],
    });
    for (let i = 0; i < 5; i++) await b.log(requestInput(i));
    await b.close(200);
    assert.equal(verifyLog([{ name: 'good.log', bytes: await readFile(good) }]).ok, true);
  });

  it('keeps undelivered entries across a restart and continues the chain', async () => {
    const d = await sub();
    const logDir = join(d, 'later');
    const logPath = join(logDir, 'audit.log');
    const keys = generateAuditKeys();
    const first = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    for (let i = 0; i < 10; i++) await first.log(requestInput(i));
    await first.close(100); // device unreachable: everything stays spooled
    await mkdir(logDir);
    const second = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    assert.ok(second.seq > 10);
    for (let i = 10; i < 15; i++) await second.log(requestInput(i));
    await second.close();
    const entries = parseLines(await readFile(logPath, 'utf8'));
    assert.deepEqual(
      entries.filter((e) => e.type === 'request').map((e) => e.request!.id),
      Array.from({ length: 15 }, (_, i) => `req-${i}`),
    );
    const r = verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }], { publicKey: second.publicKey });
    assert.equal(r.ok, true, JSON.stringify(r.problem));
  });

  it('does not deliver a line twice after a clean restart', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const keys = generateAuditKeys();
    const a = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    await a.log(requestInput(1));
    await a.close();
    const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(2));
    await b.close();
    assert.equal(verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }]).ok, true);
  });

  it('does not resend lines a file already has when the cursor was lost in a crash', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const keys = generateAuditKeys();
    const a = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    for (let i = 0; i < 5; i++) await a.log(requestInput(i));
    await a.close();
    // a crash after the device write but before the cursor was recorded: every cursor back to 0
    const { readdir } = await import('node:fs/promises');
    for (const sd of await readdir(join(d, 'spool'), { withFileTypes: true })) {
      if (sd.isDirectory()) await writeFile(join(d, 'spool', sd.name, 'cursor'), JSON.stringify({ offset: 0 }));
    }
    const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(5));
    await b.close();
    const r = verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }], { publicKey: b.publicKey });
    assert.equal(r.ok, true, JSON.stringify(r.problem));
  });

  it('recovers the chain position from the log file when the spool directory is gone', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const keys = generateAuditKeys();
    const a = await openTestBroker({ ...keys, spoolDir: join(d, 'spool-a'), devices: [new FileDevice({ path: logPath })] });
    for (let i = 0; i < 3; i++) await a.log(requestInput(i));
    await a.close();
    const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool-b'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(3));
    await b.close();
    assert.equal(verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }]).ok, true);
  });

  it('writes a signed checkpoint every N entries', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const b = await openTestBroker({ spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })], checkpointEvery: 3 });
    for (let i = 0; i < 9; i++) await b.log(requestInput(i));
    await b.flush();
    const types = parseLines(await readFile(logPath, 'utf8')).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'checkpoint').length, 3);
    assert.equal(types.at(-1), 'checkpoint');
    await b.close();
  });

  it('writes a checkpoint on the interval timer', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const b = await openTestBroker({ spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })], checkpointIntervalMs: 50 });
    await b.log(requestInput(1));
    await waitFor('a timed checkpoint', async () => ((await readFile(logPath, 'utf8')).includes('"type":"checkpoint"') ? true : undefined), 5000);
    await b.close();
  });

  it('adds and removes devices; a new device starts with a header', async () => {
    const d = await sub();
    const a = join(d, 'a.log');
    const c = join(d, 'c.log');
    const b = await openTestBroker({ spoolDir: join(d, 'spool') });
    await b.log(requestInput(0)); // no device: a no-op
    await b.addDevice(new FileDevice({ name: 'a/', path: a }));
    await assert.rejects(b.addDevice(new FileDevice({ name: 'a/', path: a })), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    await b.log(requestInput(1));
    await b.addDevice(new FileDevice({ name: 'c/', path: c }));
    await b.log(requestInput(2));
    assert.deepEqual(b.deviceNames(), ['a/', 'c/']);
    assert.equal(await b.removeDevice('a/'), true);
    assert.equal(await b.removeDevice('a/'), false);
    await b.log(requestInput(3));
    await b.close();
    const cl = parseLines(await readFile(c, 'utf8'));
    assert.equal(cl[0]!.type, 'header');
    assert.equal(verifyLog([{ name: 'c.log', bytes: await readFile(c) }]).ok, true);
    const al = parseLines(await readFile(a, 'utf8'));
    assert.ok(!al.some((e) => e.request?.id === 'req-3'));
    assert.ok(!al.some((e) => e.request?.id === 'req-0'));
  });

  it('sends newline-delimited entries to a unix socket and to a stream', async () => {
    const d = await sub();
    const sockPath = join(d, 'audit.sock');
    const received: Buffer[] = [];
    const server: Server = createServer((s) => s.on('data', (c) => received.push(c)));
    await new Promise<void>((r) => server.listen(sockPath, r));
    const out = new PassThrough();
    const streamed: Buffer[] = [];
    out.on('data', (c: Buffer) => streamed.push(c));
    const b = await openTestBroker({
      spoolDir: join(d, 'spool'),
      devices: [new SocketDevice({ address: { path: sockPath } }), new StdoutDevice({ stream: out })],
    });
    for (let i = 0; i < 20; i++) await b.log(requestInput(i, { token: TOKEN }));
    await b.close();
    await new Promise<void>((r) => server.close(() => r()));
    const viaSocket = Buffer.concat(received);
    const viaStream = Buffer.concat(streamed);
    assert.ok(verifyLog([{ name: 'socket', bytes: viaSocket }]).ok);
    assert.ok(viaSocket.equals(viaStream));
    assert.ok(!viaSocket.toString().includes(TOKEN));
  });

  it('retries a socket that is not listening yet', async () => {
    const d = await sub();
    const sockPath = join(d, 'late.sock');
    const b = await openTestBroker({ spoolDir: join(d, 'spool'), devices: [new SocketDevice({ address: { path: sockPath } })] });
    for (let i = 0; i < 5; i++) await b.log(requestInput(i));
    const received: Buffer[] = [];
    const server = createServer((s) => s.on('data', (c) => received.push(c)));
    await new Promise<void>((r) => server.listen(sockPath, r));
    assert.equal(await b.flush(5000), true);
    await b.close();
    await new Promise<void>((r) => server.close(() => r()));
    assert.equal(verifyLog([{ name: 'late', bytes: Buffer.concat(received) }]).ok, true);
  });

  /** A pino logger whose lines the test can read. */
  const capturingLogger = () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    return { log: pino({ level: 'info' }, out), lines };
  };
  const counterValue = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values.reduce((a, v) => a + v.value, 0);

  it('restarts the chain with a signed marker when its chain state is unreadable, and logs and counts it', async () => {
    const d = await sub();
    const logPath = join(d, 'audit.log');
    const keys = generateAuditKeys();
    const a = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
    for (let i = 0; i < 3; i++) await a.log(requestInput(i));
    await a.close();
    // The chain state exists but cannot be read (here: a directory where the file should be).
    await rm(join(d, 'spool', 'chain-state.json'));
    await mkdir(join(d, 'spool', 'chain-state.json'));
    const before = await counterValue(auditChainRestarts);
    const cap = capturingLogger();
    const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })], log: cap.log });
    await b.log(requestInput(3));
    await b.close();
    assert.equal(b.problems().chainRestarts, 1);
    assert.equal(await counterValue(auditChainRestarts), before + 1);
    assert.ok(cap.lines.some((l) => l.includes('audit chain state unreadable')), cap.lines.join('\n'));
    const r = verifyLog([{ name: 'audit.log', bytes: await readFile(logPath) }], { publicKey: b.publicKey });
    assert.equal(r.status, 'verified', JSON.stringify(r.problem));
    assert.equal(r.restarts.length, 1);
  });

  it('logs and counts a checkpoint no device could persist, and the log verifies once the device is back', async () => {
    const d = await sub();
    const notADir = join(d, 'file');
    await writeFile(notADir, 'x');
    const got: string[] = [];
    let failing = false;
    const flaky: AuditDevice = {
      name: 'flaky/',
      type: 'test',
      async write(ls) {
        if (failing) throw Object.assign(new Error('device down'), { code: 'EIO' });
        got.push(...ls);
      },
      async close() {},
    };
    const cap = capturingLogger();
    const before = await counterValue(auditCheckpointFailures);
    // No usable spool: an entry is persisted only once the device itself has it.
    const b = await openTestBroker({ spoolDir: join(notADir, 'spool'), devices: [flaky], checkpointEvery: 2, directTimeoutMs: 200, log: cap.log });
    await b.log(requestInput(1));
    failing = true;
    await assert.rejects(b.log(requestInput(2)), (err: unknown) => isArcaError(err, 'ERR_AUDIT_UNAVAILABLE'));
    // The background checkpoint after the second entry failed too: logged and counted, not swallowed.
    await waitFor('checkpoint failure counted', async () => (b.problems().checkpointFailures >= 1 ? true : undefined), 10_000);
    assert.ok((await counterValue(auditCheckpointFailures)) >= before + 1);
    assert.ok(cap.lines.some((l) => l.includes('audit checkpoint could not be persisted')), cap.lines.join('\n'));
    failing = false;
    await b.log(requestInput(3));
    await b.close();
    const r = verifyLog([{ name: 'flaky', bytes: Buffer.from(`${got.join('\n')}\n`) }], { publicKey: b.publicKey });
    assert.equal(r.status, 'verified', JSON.stringify(r.problem));
  });
});
