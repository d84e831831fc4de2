import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { customMetadataField } from './metadata.ts';
import { parseField } from '../fields.ts';
import { casOption, checkPath, DELETE_VERSION_AFTER, dataField, mergePatch, versionParam, versionsField } from './request.ts';
import { formatTime } from './time.ts';

/** Runs fn; anything thrown must be a 400 ArcaError (malformed or out of range), never a crash. */
function onlyInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST') || isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE'), `unexpected ${String(err)}`);
  }
}

describe('kv request parsing', () => {
  it('rejects any input to the field parsers only with ERR_INVALID_REQUEST', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        onlyInvalid(() => dataField({ data: v }));
        onlyInvalid(() => casOption({ options: v }));
        onlyInvalid(() => casOption({ options: { cas: v } }));
        onlyInvalid(() => versionParam({ version: v }));
        onlyInvalid(() => versionsField({ versions: v }, 'No version number provided'));
        onlyInvalid(() => parseField(DELETE_VERSION_AFTER, 'delete_version_after', v));
        onlyInvalid(() => customMetadataField(v, false));
        onlyInvalid(() => customMetadataField(v, true));
      }),
    );
  });

  it('accepts only clean secret paths', () => {
    fc.assert(
      fc.property(fc.string(), (p) => {
        let ok = true;
        try {
          checkPath(p);
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST'));
          ok = false;
        }
        if (ok) {
          assert.ok(p !== '' && !p.endsWith('/'));
          assert.ok(!p.split('/').some((s) => s === '' || s === '.' || s === '..'));
        }
      }),
    );
  });

  it('merge patch: null deletes, objects merge, anything else replaces (RFC 7396 examples)', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { a: null }), {});
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
    const polluted = mergePatch({}, JSON.parse('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(polluted), Object.prototype);
    assert.deepEqual(Object.keys(polluted), ['__proto__']);
  });

  it('prints times as RFC 3339 that parse back to the same instant', () => {
    assert.equal(formatTime(0), '');
    assert.equal(formatTime(Date.UTC(2025, 10, 22, 12, 0, 0)), '2025-11-22T12:00:00Z');
    assert.equal(formatTime(Date.UTC(2025, 10, 22, 12, 0, 0) + 500), '2025-11-22T12:00:00.500Z');
    assert.equal(formatTime(Date.UTC(2025, 10, 22, 12, 0, 0) + 0.001), '2025-11-22T12:00:00.000001Z');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4102444800000 }), fc.integer({ min: 0, max: 999 }), (ms, us) => {
        const s = formatTime(ms + us / 1000);
        assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d{3}|\d{6}))?Z$/);
        assert.equal(Date.parse(s), ms);
      }),
    );
  });

  it('prints a time past year 9999 (an old record) as the last RFC 3339 second instead of throwing', () => {
    assert.equal(formatTime(1e23), '9999-12-31T23:59:59Z');
    assert.equal(formatTime(Number.NaN), '9999-12-31T23:59:59Z');
  });

  it('reads delete_version_after as a signed duration and refuses one beyond Go\'s range', () => {
    assert.equal(parseField(DELETE_VERSION_AFTER, 'd', '3h25m19s'), 12319);
    assert.equal(parseField(DELETE_VERSION_AFTER, 'd', '-1s'), -1);
    assert.equal(parseField(DELETE_VERSION_AFTER, 'd', 0), 0);
    for (const v of [1e20, '99999999999h', -1e20]) {
      assert.throws(() => parseField(DELETE_VERSION_AFTER, 'delete_version_after', v), (e) => isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE'));
    }
  });
});
