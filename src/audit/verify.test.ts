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
    // At a line boundary a cut is indistinguishable from a live tail: not proven, not tampered.
    assert.equal(cut.status, 'unproven');
    const mid = verifyLog([rotated, { name: 'audit.log', bytes: current.bytes.subarray(0, current.bytes.length - 10) }]);
    assert.equal(mid.ok, false);
    assert.equal(mid.status, 'tampered');
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

  it('reports an unsigned tail after the last checkpoint as not proven, naming its range', () => {
    const ls = lines(current.bytes);
    const lastCp = ls.findLastIndex((l) => l.includes('"type":"checkpoint"'));
    // Drop the closing checkpoint and append nothing: the entries since the previous one are unsigned.
    const tail = verifyLog([rotated, { name: 'audit.log', bytes: join_(ls.slice(0, lastCp)) }]);
    assert.equal(tail.status, 'unproven');
    assert.equal(tail.ok, false);
    const seqs = ls.slice(0, lastCp).map((l) => (JSON.parse(l.toString()) as { seq: number; type: string }));
    const prevCp = seqs.findLast((e) => e.type === 'checkpoint')!;
    assert.deepEqual(tail.unsignedTail, { fromSeq: prevCp.seq + 1, toSeq: seqs.at(-1)!.seq, entries: seqs.at(-1)!.seq - prevCp.seq });
    // Tampering inside the unsigned tail is still tampering.
    const edited = ls.slice(0, lastCp);
    edited[edited.length - 2] = Buffer.from(edited[edited.length - 2]!.toString().replace('"req-', '"reX-'));
    assert.equal(verifyLog([rotated, { name: 'audit.log', bytes: join_(edited) }]).status, 'tampered');
    // And the complete log is verified.
    assert.equal(verifyLog([rotated, current]).status, 'verified');
  });
});

describe('verifyLog: chain-restart headers', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir('arca-audit-restart-');
  });
  after(() => dir.remove());

  /** A log whose broker lost its chain state between two runs (chain-state.json unreadable). */
  async function restartedLog(): Promise<{ file: LogFile; publicKey: string }> {
    const d = join(dir.path, `r${Math.random().toString(36).slice(2)}`);
    const keys = generateAuditKeys();
    const logPath = join(d, 'audit.log');
    const a = await openTestBroker({ ...keys, spoolDir: join(d, 'spool-a'), devices: [new FileDevice({ path: logPath })] });
    for (let i = 0; i < 3; i++) await a.log(requestInput(i));
    await a.close();
    // A second broker that cannot read its chain state, on a device it cannot read back.
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(d, 'spool-b', 'chain-state.json'), { recursive: true });
    const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool-b'), devices: [new FileDevice({ path: logPath })] });
    await b.log(requestInput(3));
    await b.close();
    return { file: { name: 'audit.log', bytes: await readFile(logPath) }, publicKey: b.publicKey };
  }

  it('accepts a signed chain restart and reports where it is', async () => {
    const { file, publicKey } = await restartedLog();
    const r = verifyLog([file], { publicKey });
    assert.equal(r.status, 'verified', JSON.stringify(r.problem));
    assert.equal(r.restarts.length, 1);
    assert.match(r.restarts[0]!.cause, /unreadable chain state/);
  });

  it('rejects a restart header whose signature is missing or forged', async () => {
    const { file } = await restartedLog();
    const ls = lines(file.bytes);
    const i = ls.findIndex((l) => l.includes('"reason":"chain-restart"'));
    assert.ok(i > 0);
    const entry = JSON.parse(ls[i]!.toString()) as Record<string, unknown>;
    for (const sig of [undefined, Buffer.alloc(64, 7).toString('base64')]) {
      const forged = { ...entry, sig };
      const copy = [...ls];
      copy[i] = Buffer.from(JSON.stringify(forged));
      const r = verifyLog([{ name: 'audit.log', bytes: join_(copy) }]);
      assert.equal(r.status, 'tampered');
      assert.equal(r.problem?.line, i + 1);
    }
  });

  it('does not let an ordinary start header pass for a restart', async () => {
    // Two clean runs of one broker on one log: the second run writes an ordinary `start` header in the
    // middle of the file, chained to the run before it (no restart, so no signature).
    const d = join(dir.path, `s${Math.random().toString(36).slice(2)}`);
    const keys = generateAuditKeys();
    const logPath = join(d, 'audit.log');
    let publicKey = '';
    for (const run of [0, 1]) {
      const b = await openTestBroker({ ...keys, spoolDir: join(d, 'spool'), devices: [new FileDevice({ path: logPath })] });
      publicKey = b.publicKey;
      for (let i = 0; i < 3; i++) await b.log(requestInput(run * 10 + i));
      await b.close();
    }
    const bytes = await readFile(logPath);
    const untouched = verifyLog([{ name: 'audit.log', bytes }], { publicKey });
    assert.equal(untouched.status, 'verified', JSON.stringify(untouched.problem));
    assert.deepEqual(untouched.restarts, []);
    const ls = lines(bytes);
    const start = ls.findIndex((l, k) => k > 0 && l.includes('"reason":"start"'));
    assert.ok(start > 0, 'the second run wrote a start header in the middle of the log');
    const header = JSON.parse(ls[start]!.toString()) as Record<string, unknown>;
    assert.equal(header['type'], 'header');
    assert.equal(header['sig'], undefined);

    // Relabelled in place (the rest of the chain untouched): rejected for its missing signature, at that line.
    const relabelled = [...ls];
    relabelled[start] = Buffer.from(ls[start]!.toString().replace('"reason":"start"', '"reason":"chain-restart"'));
    let r = verifyLog([{ name: 'audit.log', bytes: join_(relabelled) }]);
    assert.equal(r.status, 'tampered');
    assert.equal(r.problem?.line, start + 1);
    assert.match(r.problem?.reason ?? '', /chain-restart header signature is missing or invalid/);

    // What a restart would excuse: entries deleted just before the relabelled header. The signature is what
    // names the break (the reason), not only the chain after it.
    const hidden = [...ls.slice(0, start - 2), relabelled[start]!, ...ls.slice(start + 1)];
    r = verifyLog([{ name: 'audit.log', bytes: join_(hidden) }]);
    assert.equal(r.status, 'tampered');
    assert.equal(r.problem?.line, start - 1);
    assert.match(r.problem?.reason ?? '', /chain-restart header signature is missing or invalid/);

    // Nor with a signature made up for it.
    const forged = [...relabelled];
    forged[start] = Buffer.from(JSON.stringify({ ...header, reason: 'chain-restart', sig: Buffer.alloc(64, 7).toString('base64') }));
    r = verifyLog([{ name: 'audit.log', bytes: join_(forged) }]);
    assert.equal(r.status, 'tampered');
    assert.equal(r.problem?.line, start + 1);
    assert.match(r.problem?.reason ?? '', /chain-restart header signature is missing or invalid/);
  });
});
