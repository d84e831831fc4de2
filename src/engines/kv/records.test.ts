import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeData, decodeMeta, emptyMeta, encode } from './records.ts';

describe('kv records', () => {
  it('decodes what it encodes', () => {
    const m = { ...emptyMeta(1.5), current: 2, custom: { team: 'a' }, versions: { '2': { created: 1.5, deleted: 0, destroyed: false, ref: 'ab' } } };
    assert.deepEqual(decodeMeta(encode(m)), m);
    assert.deepEqual(decodeData(encode({ data: { k: [1, { x: null }] } })), { k: [1, { x: null }] });
  });

  it('rejects malformed records', () => {
    const good = { ...emptyMeta(1), versions: { '1': { created: 1, deleted: 0, destroyed: false, ref: 'ab' } } };
    const bad: unknown[] = [
      null,
      [],
      { ...good, current: 1.5 },
      { ...good, custom: { a: 1 } },
      { ...good, versions: { '1': { created: 1, deleted: 0, destroyed: 'no', ref: 'ab' } } },
      { ...good, casRequired: undefined },
    ];
    for (const b of bad) assert.throws(() => decodeMeta(encode(b)), JSON.stringify(b));
    for (const b of [null, {}, { data: [] }, { data: 'x' }]) assert.throws(() => decodeData(encode(b)), JSON.stringify(b));
  });
});
