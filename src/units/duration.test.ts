import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../errors/index.ts';
import { formatDuration, MAX_DURATION, parseDuration } from './duration.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(isArcaError(err), `not an ArcaError: ${String(err)}`);
    return err.code;
  }
}

describe('parseDuration', () => {
  it('reads Go and Vault syntax', () => {
    const cases: [unknown, number][] = [
      ['1h30m', 5400], ['90s', 90], ['1.5h', 5400], ['7d', 604800], ['3600', 3600], [3600, 3600], ['0', 0], [0, 0],
      ['1m30s', 90], ['.5m', 30], ['1.s', 1], [' 10s ', 10], ['+2m', 120], ['1500ms', 1], ['1h0m0s', 3600],
    ];
    for (const [v, want] of cases) assert.equal(parseDuration(v), want, String(v));
    assert.equal(parseDuration('1.001s', { unit: 'ms' }), 1001);
    assert.equal(parseDuration('250', { unit: 'ms' }), 250);
    assert.equal(parseDuration('1µs', { unit: 'ms' }), 0);
    assert.equal(parseDuration('-1s', { allowNegative: true }), -1);
    assert.equal(parseDuration(-1, { allowNegative: true }), -1);
  });

  it('refuses malformed input with ERR_INVALID_REQUEST naming the field', () => {
    for (const v of ['', 'abc', '1x', 'h', '1h 30m', '.s', '1.5', null, {}, [], true, Number.NaN, '1'.repeat(65)]) {
      assert.equal(code(() => parseDuration(v, { field: 'ttl' })), 'ERR_INVALID_REQUEST', String(v));
    }
    assert.equal(code(() => parseDuration('7d', { days: false })), 'ERR_INVALID_REQUEST');
    assert.equal(code(() => parseDuration('30', { plainNumber: false })), 'ERR_INVALID_REQUEST');
    assert.equal(parseDuration('0', { plainNumber: false }), 0);
  });

  it('refuses out-of-range values with ERR_FIELD_OUT_OF_RANGE, naming the field and range but not the value', () => {
    for (const v of [1e20, '99999999999h', '-1s', -5, Number.POSITIVE_INFINITY, '9223372037s', '106752d']) {
      try {
        parseDuration(v, { field: 'auto_rotate_period' });
        assert.fail(`accepted ${String(v)}`);
      } catch (err) {
        assert.ok(isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE'), String(err));
        assert.match(err.message, /^auto_rotate_period must be between 0s and \d+h\d+m\d+s$/);
        assert.equal(err.details?.['field'], 'auto_rotate_period');
      }
    }
    assert.equal(code(() => parseDuration('30m', { min: 3600 })), 'ERR_FIELD_OUT_OF_RANGE');
    assert.equal(code(() => parseDuration('2h', { max: 3600 })), 'ERR_FIELD_OUT_OF_RANGE');
    assert.equal(parseDuration('9223372036s'), MAX_DURATION.s);
  });

  it('never throws anything but an ArcaError, and never returns a value out of its range', () => {
    const input = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[+-]?(\d{0,12}(\.\d{0,12})?(ns|us|µs|ms|s|m|h|d)){1,4}$/),
      fc.double(),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(input, fc.constantFrom('s' as const, 'ms' as const), fc.boolean(), (v, unit, allowNegative) => {
        try {
          const n = parseDuration(v, { unit, allowNegative });
          assert.ok(Number.isSafeInteger(n) && Math.abs(n) <= MAX_DURATION[unit] && (allowNegative || n >= 0));
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST') || isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE'), String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back exactly what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.constantFrom('s' as const, 'ms' as const), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (unit, raw) => {
        const v = raw % (MAX_DURATION[unit] + 1);
        assert.equal(parseDuration(formatDuration(v, unit), { unit, allowNegative: true }), v);
      }),
      { numRuns: 2000 },
    );
  });

  it('formats as Go does', () => {
    assert.deepEqual([0, 19, 90, 3600, 12319, -1].map((s) => formatDuration(s)), ['0s', '19s', '1m30s', '1h0m0s', '3h25m19s', '-1s']);
    assert.deepEqual([500, 1500, 60_001].map((ms) => formatDuration(ms, 'ms')), ['500ms', '1.5s', '1m0.001s']);
  });
});
