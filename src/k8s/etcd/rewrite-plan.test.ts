import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { tempDir } from '../../../test/harness/index.ts';
import { isArcaError } from './deps.ts';
import { writeState } from './resume.ts';
import { type Clock, groupWrites, type PendingWrite, pacer, rangesOf, resumePoint } from './rewrite-plan.ts';

const write = (key: string, outLen: number): PendingWrite => ({
  kv: { key: Buffer.from(key), value: Buffer.alloc(0), modRevision: '1' },
  out: Buffer.alloc(outLen),
});
const keys = (batches: PendingWrite[][]) => batches.map((b) => b.map((p) => p.kv.key.toString()));

describe('rewrite plan: ranges', () => {
  it('covers the narrower key prefix when given, else the ranges of the resources, else the whole prefix', () => {
    assert.deepEqual(rangesOf({ prefix: '/registry/', keyPrefix: '/registry/secrets/ns/', resources: ['secrets'] }), ['/registry/secrets/ns/']);
    assert.deepEqual(rangesOf({ prefix: '/registry/', resources: ['secrets'] }), ['/registry/secrets/']);
    assert.deepEqual(rangesOf({ prefix: '/registry/' }), ['/registry/']);
  });
});

describe('rewrite plan: batching', () => {
  it('keeps key order and cuts a batch at the count limit', () => {
    const ws = ['a', 'b', 'c', 'd', 'e'].map((k) => write(k, 10));
    assert.deepEqual(keys(groupWrites(ws, 2)), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(keys(groupWrites(ws, 1)), [['a'], ['b'], ['c'], ['d'], ['e']]);
    assert.deepEqual(groupWrites([], 32), []);
  });

  it('cuts a batch before it would pass the byte limit (keys and values), and never leaves one empty', () => {
    const ws = [write('a', 40), write('b', 40), write('c', 200), write('d', 1)];
    // 41 + 41 = 82 ≤ 100; + 201 would pass it. 201 alone is over the limit: a batch of its own.
    assert.deepEqual(keys(groupWrites(ws, 32, 100)), [['a', 'b'], ['c'], ['d']]);
  });
});

describe('rewrite plan: pacing', () => {
  function fakeClock(): Clock & { slept: number[] } {
    let t = 1_000;
    const slept: number[] = [];
    return {
      slept,
      now: () => t,
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
    };
  }

  it('spaces writes 1/rate s apart without a burst at the start', async () => {
    const clock = fakeClock();
    const pace = pacer(4, clock);
    for (let i = 0; i < 4; i++) await pace();
    assert.deepEqual(clock.slept, [250, 250, 250]);
  });

  it('does not let a caller that fell behind catch up with a burst', async () => {
    const clock = fakeClock();
    const pace = pacer(10, clock);
    await pace();
    await clock.sleep(1_000); // the caller was busy for ten slots
    clock.slept.length = 0;
    await pace();
    await pace();
    assert.deepEqual(clock.slept, [100]);
  });

  it('never waits without a rate', async () => {
    for (const rate of [undefined, 0, -1]) {
      const clock = fakeClock();
      const pace = pacer(rate, clock);
      for (let i = 0; i < 3; i++) await pace();
      assert.deepEqual(clock.slept, []);
    }
  });
});

describe('rewrite plan: resume point', () => {
  const scope = { prefix: '/registry/', resources: ['secrets'] };
  const state = { version: 1 as const, prefix: '/registry/', resources: ['secrets'], rangeIndex: 2, lastKey: '/registry/secrets/b/x', stats: {}, updatedAt: 'now' };
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let file: string;
  before(async () => {
    dir = await tempDir('arca-rewrite-plan-');
  });
  after(() => dir.remove());
  beforeEach(async () => {
    file = `${dir.path}/state.json`;
    await writeState(file, state);
  });

  it('starts at the beginning without --resume or without a state file', async () => {
    assert.deepEqual(await resumePoint(scope, file, false), { rangeIndex: 0 });
    assert.deepEqual(await resumePoint(scope, `${dir.path}/missing.json`, true), { rangeIndex: 0 });
    assert.deepEqual(await resumePoint(scope, undefined, true), { rangeIndex: 0 });
  });

  it('resumes after the last checkpointed key of the recorded range', async () => {
    assert.deepEqual(await resumePoint(scope, file, true), { rangeIndex: 2, after: '/registry/secrets/b/x' });
  });

  it('refuses a state written for another prefix or other resources, and a corrupt one', async () => {
    const refuses = (p: Promise<unknown>, code: 'ERR_INVALID_REQUEST' | 'ERR_CONFIG_READ') => assert.rejects(p, (e) => isArcaError(e, code));
    await refuses(resumePoint({ prefix: '/registry/', keyPrefix: '/registry/secrets/b/', resources: ['secrets'] }, file, true), 'ERR_INVALID_REQUEST');
    await refuses(resumePoint({ prefix: '/registry/', resources: ['configmaps'] }, file, true), 'ERR_INVALID_REQUEST');
    await writeFile(file, '{"version":2}');
    await refuses(resumePoint(scope, file, true), 'ERR_CONFIG_READ');
  });
});
