/**
 * The KV read path remembers recent path hashes and formatted times (records.ts, time.ts) and checks
 * segments with one regex (request.ts): the answers must be exactly what the uncached code gives,
 * including after the bounded caches are dropped.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { versionKey } from './records.ts';
import { checkPath } from './request.ts';
import { formatTime } from './time.ts';

describe('kv read-path caches', () => {
  it('versionKey is versions/<sha256(path)>/<n>-<ref>, before and after the cache is dropped', () => {
    const want = `versions/${createHash('sha256').update('app/db').digest('hex')}/3-abc`;
    assert.equal(versionKey('app/db', 3, 'abc'), want);
    for (let i = 0; i < 5000; i++) versionKey(`p${i}`, 1, 'r');
    assert.equal(versionKey('app/db', 3, 'abc'), want);
    assert.notEqual(versionKey('app/db2', 3, 'abc'), want);
  });

  it('formatTime gives the same text from the cache and after it is dropped', () => {
    const t = Date.UTC(2025, 10, 22, 12, 0, 0) + 0.5;
    const first = formatTime(t);
    assert.equal(first, '2025-11-22T12:00:00.000500Z');
    for (let i = 0; i < 5000; i++) formatTime(t + i + 1);
    assert.equal(formatTime(t), first);
    assert.equal(formatTime(t + 1000), '2025-11-22T12:00:01.000500Z');
  });

  it('checkPath refuses exactly the empty, "." and ".." segments', () => {
    for (const bad of ['.', '..', 'a/./b', 'a/../b', 'a//b', '/a', 'a/..', '../a', 'a/.', './a']) {
      assert.throws(() => checkPath(bad), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /segment/.test((e as Error).message), bad);
    }
    for (const ok of ['...', '.a', 'a.', 'a..b', 'a/.b/c', 'a/b..', 'x']) assert.equal(checkPath(ok), ok);
    assert.equal(checkPath('a/b/', true), 'a/b/');
    assert.throws(() => checkPath('a//', true), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
  });
});
