import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/harness/index.ts';
import { FileDevice } from './devices/file.ts';
import { generateAuditKeys, parsePublicKey } from './signing.ts';
import { openTestBroker, requestInput } from './test-util.ts';
import { type LogFile, verifyLog } from './verify.ts';

const NL = 0x0a;

function lines(b: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  const buf = Buffer.from(b);
  for (;;) {
    const i = buf.indexOf(NL, s);
    if (i < 0) break;
    out.push(buf.subarray(s, i));
    s = i + 1;
  }
  return out;
}
const join_ = (ls: Buffer[]) => Buffer.concat(ls.flatMap((l) => [l, Buffer.from('\n')]));

describe('verifyLog', () => {
  let dir: { path: string; remove(): Promise<void> };
  let rotated: LogFile;
  let current: LogFile;
  let publicKey: string;

  before(async () => {
    dir = await tempDir('arca-audit-verify-');
    const logPath = join(dir.path, 'audit.log');
    const keys = generateAuditKeys();
    const broker = await openTestBroker({
      ...keys,
      spoolDir: join(dir.path, 'spool'),
      devices: [new FileDevice({ path: logPath })],
      checkpointEvery: 5,
    });
    publicKey = broker.publicKey;
    for (let i = 0; i < 12; i++) await broker.log(requestInput(i, { data: { password: `pw-${i}` } }));
    assert.ok(await broker.flush());
    await rename(logPath, `${logPath}.1`);
    await broker.reopen();
    for (let i = 12; i < 20; i++) await broker.log(requestInput(i));
    await broker.close();
    rotated = { name: 'audit.log.1', bytes: await readFile(`${logPath}.1`) };
    current = { name: 'audit.log', bytes: await readFile(logPath) };
  });
  after(() => dir.remove());

  it('passes an untouched rotated log, with and without the trusted key', () => {
    const r = verifyLog([rotated, current]);
    assert.equal(r.ok, true, JSON.stringify(r.problem));
    assert.equal(r.anchored, true);
    assert.equal(r.firstSeq, 1);
    assert.ok(r.checkpoints >= 4);
    assert.equal(verifyLog([rotated, current], { publicKey }).ok, true);
  });

  it('passes each rotated file on its own (the later one is unanchored)', () => {
    assert.equal(verifyLog([rotated]).ok, true);
    const r = verifyLog([current]);
    assert.equal(r.ok, true);
    assert.equal(r.anchored, false);
  });

  it('starts every file with a header and ends the rotated one with a checkpoint', () => {
    const first = (f: LogFile) => JSON.parse(lines(f.bytes)[0]!.toString()) as { type: string; reason: string };
    const last = (f: LogFile) => JSON.parse(lines(f.bytes).at(-1)!.toString()) as { type: string };
    assert.equal(first(rotated).type, 'header');
    assert.equal(first(current).reason, 'reopen');
    assert.equal(last(rotated).type, 'checkpoint');
    assert.equal(last(current).type, 'checkpoint');
  });

  it('fails on files given out of order', () => {
    assert.equal(verifyLog([current, rotated]).ok, false);
  });

  it('names the line with one flipped byte', () => {
    const ls = lines(rotated.bytes);
    const target = 4; // a request entry (line 5)
    const l = Buffer.from(ls[target]!);
    const at = l.indexOf('secret/data/app/') + 3;
    l[at] = l[at]! ^ 0x01;
    ls[target] = l;
    const r = verifyLog([{ name: 'audit.log.1', bytes: join_(ls) }, current]);
    assert.equal(r.ok, false);
    assert.deepEqual([r.problem?.file, r.problem?.line], ['audit.log.1', target + 1]);
  });

  it('detects a flipped byte anywhere in a line', () => {
    for (const fileIdx of [0, 1]) {
      const files = [rotated, current];
      const ls = lines(files[fileIdx]!.bytes);
      for (let li = 0; li < ls.length; li += 3) {
        for (const pos of [0, 9, Math.floor(ls[li]!.length / 2), ls[li]!.length - 2]) {
          const copy = ls.map((x) => Buffer.from(x));
          copy[li]![pos] = copy[li]![pos]! ^ 0x04;
          const tampered = files.map((f, i) => (i === fileIdx ? { name: f.name, bytes: join_(copy) } : f));
          const r = verifyLog(tampered, { publicKey });
          assert.equal(r.ok, false, `file ${fileIdx} line ${li + 1} byte ${pos}`);
        }
      }
    }
  });

  it('names a deleted line', () => {
    const ls = lines(rotated.bytes);
    ls.splice(6, 1);
    const r = verifyLog([{ name: 'audit.log.1', bytes: join_(ls) }, current]);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.line, 7);
    assert.match(r.problem?.reason ?? '', /expected seq 7, found 8/);
  });

  it('names two swapped lines', () => {
    const ls = lines(rotated.bytes);
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    const r = verifyLog([{ name: 'audit.log.1', bytes: join_(ls) }, current]);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.line, 4);
  });

  it('detects a truncated tail: at a line boundary and mid-line', () => {
    const ls = lines(current.bytes);
    const cut = verifyLog([rotated, { name: 'audit.log', bytes: join_(ls.slice(0, -2)) }]);
    assert.equal(cut.ok, false);
    assert.equal(cut.problem?.line, ls.length - 2);
    assert.match(cut.problem?.reason ?? '', /without a checkpoint/);
    const mid = verifyLog([rotated, { name: 'audit.log', bytes: current.bytes.subarray(0, current.bytes.length - 10) }]);
    assert.equal(mid.ok, false);
    assert.equal(mid.problem?.line, ls.length);
    const missingFile = verifyLog([rotated], { minLastSeq: 25 });
    assert.equal(missingFile.ok, false);
  });

  it('names an inserted forged line, even one with a correct seq and prev', () => {
    const ls = lines(rotated.bytes);
    const prevLine = JSON.parse(ls[2]!.toString()) as { seq: number };
    const forged = Buffer.from(
      JSON.stringify({
        seq: prevLine.seq + 1,
        type: 'request',
        time: new Date().toISOString(),
        request: { id: 'forged', operation: 'read', path: 'secret/data/app/x', client_addr: '10.0.0.9', auth: null, data: null },
        prev: createHash('sha256').update(ls[2]!).digest('hex'),
      }),
    );
    ls.splice(3, 0, forged);
    const r = verifyLog([{ name: 'audit.log.1', bytes: join_(ls) }, current]);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.line, 4);
    assert.match(r.problem?.reason ?? '', /inserted/);
    // a naive forgery (wrong seq and prev) is caught too
    const ls2 = lines(rotated.bytes);
    ls2.splice(3, 0, Buffer.from(`{"seq":99,"type":"request","time":"x","prev":"${'1'.repeat(64)}","request":{"id":"x","path":"y"}}`));
    assert.equal(verifyLog([{ name: 'audit.log.1', bytes: join_(ls2) }, current]).problem?.line, 4);
  });

  it('rejects a whole log re-signed with another key when the trusted key is given', async () => {
    const other = generateAuditKeys();
    const d = await tempDir('arca-audit-other-');
    try {
      const b = await openTestBroker({ ...other, spoolDir: join(d.path, 's'), devices: [new FileDevice({ path: join(d.path, 'a.log') })] });
      await b.log(requestInput(1));
      await b.close();
      const forged = [{ name: 'a.log', bytes: await readFile(join(d.path, 'a.log')) }];
      assert.equal(verifyLog(forged).ok, true);
      const r = verifyLog(forged, { publicKey });
      assert.equal(r.ok, false);
      assert.match(r.problem?.reason ?? '', /different signing key/);
    } finally {
      await d.remove();
    }
  });

  it('accepts the trusted key as base64 raw or PEM, and refuses garbage', () => {
    const k = parsePublicKey(publicKey)!;
    const raw = k.spki.subarray(-32).toString('base64');
    const pem = k.key.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal(verifyLog([rotated, current], { publicKey: raw }).ok, true);
    assert.equal(verifyLog([rotated, current], { publicKey: pem }).ok, true);
    assert.equal(verifyLog([rotated, current], { publicKey: 'nope' }).ok, false);
  });

  it('fails on no input and on an empty file', () => {
    assert.equal(verifyLog([]).ok, false);
    assert.equal(verifyLog([{ name: 'e', bytes: new Uint8Array() }]).ok, false);
  });
});
