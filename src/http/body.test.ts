import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseBody } from './body.ts';

const buf = (s: string) => Buffer.from(s, 'utf8');
const deep = (n: number) => `{"data":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`;

describe('parseBody', () => {
  it('parses a JSON object whatever the Content-Type says, and no body as {}', () => {
    assert.deepEqual(parseBody(buf('{"a":1}'), undefined), { a: 1 });
    assert.deepEqual(parseBody(buf('{"a":1}'), 'text/plain'), { a: 1 });
    assert.deepEqual(parseBody(undefined, 'application/json'), {});
    assert.deepEqual(parseBody(Buffer.alloc(0), undefined), {});
  });

  it('parses form bodies, joining repeated fields', () => {
    assert.deepEqual(parseBody(buf('a=1&b=2&a=3'), 'application/x-www-form-urlencoded'), { a: '1,3', b: '2' });
  });

  it('refuses what is not a JSON object with a coded 400', () => {
    for (const s of ['[1]', '"x"', 'null', '{', '1']) {
      assert.throws(() => parseBody(buf(s), 'application/json'), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    }
  });

  it('refuses 5,000-deep JSON with a coded 400 instead of overflowing the stack (issue 12 item 13)', () => {
    assert.throws(() => parseBody(buf(deep(5000)), 'application/json'), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    assert.throws(() => parseBody(buf(`{"a":${'['.repeat(100_000)}`), undefined), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    assert.deepEqual(parseBody(buf(deep(MAX_JSON_DEPTH - 1)), undefined).data !== undefined, true);
  });
});

describe('nestsDeeperThan', () => {
  it('counts object and array nesting but not brackets inside strings', () => {
    assert.equal(nestsDeeperThan('{"a":[{"b":1}]}', 3), false);
    assert.equal(nestsDeeperThan('{"a":[{"b":1}]}', 2), true);
    assert.equal(nestsDeeperThan(`{"a":"${'['.repeat(50)}"}`, 1), false);
    assert.equal(nestsDeeperThan('{"a":"\\"[[[["}', 1), false);
  });
});
