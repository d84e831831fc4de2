import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { MAX_DURATION } from '../../units/index.ts';
import { decodeConfig, decodeData, decodeMeta, emptyMeta, encode, MAX_KV_VERSIONS } from './records.ts';

const internal = (e: unknown) => isArcaError(e, 'ERR_INTERNAL') && e.expose === false;

describe('kv records', () => {
  it('decodes what it encodes', () => {
    const m = { ...emptyMeta(1.5), current: 2, custom: { team: 'a' }, versions: { '2': { created: 1.5, deleted: 0, destroyed: false, ref: 'ab' } } };
    assert.deepEqual(decodeMeta(encode(m)), m);
    assert.deepEqual(decodeData(encode({ data: { k: [1, { x: null }] } })), { k: [1, { x: null }] });
  });

  it('rejects malformed records with an unexposed ERR_INTERNAL', () => {
    const good = { ...emptyMeta(1), versions: { '1': { created: 1, deleted: 0, destroyed: false, ref: 'ab' } } };
    const bad: unknown[] = [
      null,
      [],
      { ...good, current: 1.5 },
      { ...good, custom: { a: 1 } },
      { ...good, versions: { '1': { created: 1, deleted: 0, destroyed: 'no', ref: 'ab' } } },
      { ...good, casRequired: undefined },
    ];
    for (const b of bad) assert.throws(() => decodeMeta(encode(b)), internal, JSON.stringify(b));
    for (const b of [null, {}, { data: [] }, { data: 'x' }]) assert.throws(() => decodeData(encode(b)), internal, JSON.stringify(b));
    assert.throws(() => decodeConfig(encode({ maxVersions: 'x', casRequired: false, deleteVersionAfter: 0 })), internal);
    assert.throws(() => decodeMeta(new TextEncoder().encode('{')), internal);
  });

  it('loads a record holding settings the API would refuse, clamped into range', () => {
    const huge = { maxVersions: 1e20, casRequired: false, deleteVersionAfter: 1e20 };
    assert.deepEqual(decodeConfig(encode(huge)), { maxVersions: MAX_KV_VERSIONS, casRequired: false, deleteVersionAfter: MAX_DURATION.s });
    assert.deepEqual(decodeConfig(encode({ ...huge, maxVersions: -3, deleteVersionAfter: -1e300 })), {
      maxVersions: 0, casRequired: false, deleteVersionAfter: -MAX_DURATION.s,
    });
    const m = decodeMeta(encode({ ...emptyMeta(1), maxVersions: 2.5, deleteVersionAfter: 3.6e14 }));
    assert.equal(m.maxVersions, 2);
    assert.equal(m.deleteVersionAfter, MAX_DURATION.s);
  });
});
