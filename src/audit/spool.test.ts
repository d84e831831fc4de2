import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/harness/index.ts';
import { Spool } from './spool.ts';

describe('Spool', () => {
  let dir: { path: string; remove(): Promise<void> };
  let n = 0;
  before(async () => {
    dir = await tempDir('arca-spool-');
  });
  after(() => dir.remove());
  const fresh = () => join(dir.path, `s${++n}`);

  it('returns appended lines in order and remembers delivery across reopen', async () => {
    const d = fresh();
    const s = await Spool.open(d);
    await s.append(['a', 'b']);
    await s.append(['c']);
    const r = await s.readPending();
    assert.deepEqual(r.lines, ['a', 'b', 'c']);
    await s.commit(4); // 'a\nb\n' delivered
    await s.close();
    const again = await Spool.open(d);
    assert.deepEqual((await again.readPending()).lines, ['c']);
    assert.equal(await again.lastLine(), 'c');
    await again.close();
  });

  it('returns a line longer than the read size whole', async () => {
    const s = await Spool.open(fresh());
    const long = 'x'.repeat(5000);
    await s.append([long, 'y']);
    const got = (await s.readPending(100)).lines;
    assert.equal(got[0]?.length, long.length);
    assert.ok(got[0] === long);
    await s.close();
  });

  it('cuts a partial last line left by a crash', async () => {
    const d = fresh();
    const s = await Spool.open(d);
    await s.append(['whole']);
    await s.close();
    await appendFile(join(d, 'spool.log'), 'half-writ');
    const again = await Spool.open(d);
    assert.deepEqual((await again.readPending()).lines, ['whole']);
    assert.equal(await again.lastLine(), 'whole');
    await again.close();
  });

  it('compacts a drained spool down to its last line', async () => {
    const d = fresh();
    const s = await Spool.open(d, { compactBytes: 64 });
    const lines = Array.from({ length: 20 }, (_, i) => `line-${i}`);
    await s.append(lines);
    const r = await s.readPending();
    await s.commit(r.end);
    assert.equal(s.pending, false);
    assert.equal(await readFile(join(d, 'spool.log'), 'utf8'), 'line-19\n');
    await s.append(['next']);
    assert.deepEqual((await s.readPending()).lines, ['next']);
    await s.close();
    const again = await Spool.open(d);
    assert.deepEqual((await again.readPending()).lines, ['next']);
    await again.close();
  });

  it('treats a cursor past the end as fully delivered', async () => {
    const d = fresh();
    const s = await Spool.open(d, { compactBytes: 1 << 30 });
    await s.append(['a']);
    await s.commit(2);
    await s.close();
    await writeFile(join(d, 'cursor'), JSON.stringify({ offset: 999 }));
    const again = await Spool.open(d);
    assert.equal(again.pending, false);
    await again.close();
  });
});
