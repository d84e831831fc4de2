import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { isArcaError } from '../errors/index.ts';
import { checkRoleName, ignoredFieldsResponse, ignoredFieldsWarning, MAX_INT, parseField, parseFields, vBool, vDuration, vDurationIn, vInt, vIntIn, vIntListIn, vStringList } from './fields.ts';

const schema = z.object({
  n: vIntIn(0, 10).optional(),
  d: vDurationIn({ min: 60 }).optional(),
  b: vBool.optional(),
  l: vIntListIn(1, 5).optional(),
  s: vStringList.optional(),
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(isArcaError(err), String(err));
    return err.code;
  }
}

describe("Vault's ignored-fields warning", () => {
  it('names the body fields a schema does not take, sorted, and nothing for a clean body', () => {
    assert.deepEqual(ignoredFieldsWarning(schema, { n: 1, zeta: 'secret-ish', alpha: 2 }), ['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
    assert.deepEqual(ignoredFieldsWarning(schema, { n: 1, s: 'a' }), []);
    assert.deepEqual(ignoredFieldsResponse(schema, { n: 1 }), undefined);
    assert.deepEqual(ignoredFieldsResponse(schema, { x: 1 }), { data: null, warnings: ['Endpoint ignored these unrecognized parameters: [x]'] });
  });

  it('never quotes a value, and does not count inherited names as known', () => {
    fc.assert(
      // Names in lower case, values in upper case and digits: a value can only appear if it is quoted.
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.stringMatching(/^[A-Z0-9]{12,20}$/)), (data) => {
        for (const w of ignoredFieldsWarning(schema, data)) for (const v of Object.values(data)) assert.equal(w.includes(v), false);
      }),
    );
    assert.deepEqual(ignoredFieldsWarning(schema, JSON.parse('{"toString": 1, "constructor": 2}') as Record<string, unknown>), ['Endpoint ignored these unrecognized parameters: [constructor toString]']);
  });
});

describe('engine fields', () => {
  it('treats a top-level JSON null as an absent field', () => {
    assert.deepEqual(parseFields(schema, { n: null, d: null, b: null, l: null, s: null }), {});
    assert.deepEqual(parseFields(schema, { n: 3, d: null }), { n: 3 });
  });

  it('tells out-of-range numbers (ERR_FIELD_OUT_OF_RANGE, with field and range) from malformed ones', () => {
    for (const n of [-1, 11, 1e20, '1e20', Number.POSITIVE_INFINITY]) {
      try {
        parseFields(schema, { n });
        assert.fail(`accepted ${String(n)}`);
      } catch (err) {
        assert.ok(isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE'), String(err));
        assert.equal(err.message, 'field "n" must be an integer between 0 and 10');
        assert.deepEqual(err.details, { field: 'n' });
      }
    }
    for (const n of ['abc', 1.5, '', '0x10', true, [1]]) assert.equal(codeOf(() => parseFields(schema, { n })), 'ERR_INVALID_REQUEST', String(n));
    assert.equal(codeOf(() => parseFields(schema, { d: '30s' })), 'ERR_FIELD_OUT_OF_RANGE');
    assert.equal(codeOf(() => parseFields(schema, { d: 'soon' })), 'ERR_INVALID_REQUEST');
    assert.equal(codeOf(() => parseFields(schema, { l: [1, 6] })), 'ERR_FIELD_OUT_OF_RANGE');
    assert.equal(codeOf(() => parseFields(schema, { l: '1,x' })), 'ERR_INVALID_REQUEST');
    assert.deepEqual(parseFields(schema, { n: '7', d: '1m', b: 'true', l: '1, 2', s: 'a,b' }), { n: 7, d: 60, b: true, l: [1, 2], s: ['a', 'b'] });
    assert.equal(parseField(vInt, 'x', String(MAX_INT)), MAX_INT);
    assert.equal(codeOf(() => parseField(vInt, 'x', MAX_INT + 2)), 'ERR_FIELD_OUT_OF_RANGE');
    assert.equal(codeOf(() => parseField(vDuration, 'x', '99999999999h')), 'ERR_FIELD_OUT_OF_RANGE');
  });

  it('never quotes the value in an error message', () => {
    const needle = fc.string({ minLength: 6 }).filter((s) => /^[a-z]+$/.test(s) && !/(field|between|integer|expected|duration|boolean|number|seconds|invalid|input)/.test(s));
    fc.assert(
      fc.property(needle, fc.constantFrom('n', 'd', 'b', 'l', 's'), (v, f) => {
        try {
          parseFields(schema, { [f]: v });
        } catch (err) {
          assert.ok(isArcaError(err));
          assert.equal(err.message.includes(v), false, err.message);
        }
      }),
    );
  });

  it('takes role names of 1-128 letters, digits, ".", "_" or "-" starting with a letter or digit, and refuses others naming the field', () => {
    for (const ok of ['a', 'A9', 'web-app.v2_x', 'x'.repeat(128)]) assert.equal(checkRoleName(ok), ok);
    for (const bad of ['', '-a', '.a', 'a/b', 'a b', 'x'.repeat(129)]) {
      assert.throws(() => checkRoleName(bad, 'role_name'), (err) => isArcaError(err, 'ERR_INVALID_REQUEST') && err.details?.['field'] === 'role_name');
    }
  });
});
