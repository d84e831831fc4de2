import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { isArcaError } from '../errors/index.ts';
import { formatEnv, formatJson, formatProperties, formatRaw, formatYaml, propertiesEscape, shellQuote } from './formats.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(isArcaError(err), `not an ArcaError: ${String(err)}`);
    return err.code;
  }
}

/** java.util.Properties.load, as specified in its javadoc (logical lines, separators, escapes). */
function loadProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // continuation: an odd number of trailing backslashes
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    let k = 0;
    let key = '';
    while (k < line.length) {
      const ch = line[k]!;
      if (ch === '\\') {
        key += line.slice(k, k + 2);
        k += 2;
        continue;
      }
      if (ch === '=' || ch === ':' || ch === ' ' || ch === '\t' || ch === '\f') break;
      key += ch;
      k++;
    }
    let rest = line.slice(k).replace(/^[ \t\f]*/, '');
    if (rest[0] === '=' || rest[0] === ':') rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    // defineProperty: a key named __proto__ is an own property, as in JSON.parse's output.
    Object.defineProperty(out, unescapeProp(key), { value: unescapeProp(rest), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
function unescapeProp(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

describe('raw', () => {
  it('writes one field verbatim, without adding a newline', () => {
    assert.equal(formatRaw({ a: 'x\n', b: 'y' }, 'a'), 'x\n');
    assert.equal(formatRaw({ n: 5 }, 'n'), '5');
    assert.equal(formatRaw({ only: 'v' }, undefined), 'v');
  });
  it('refuses a missing field and an ambiguous secret', () => {
    assert.equal(code(() => formatRaw({ a: '1' }, 'b')), 'ERR_RENDER_FIELD_MISSING');
    assert.equal(code(() => formatRaw({ a: '1', b: '2' }, undefined)), 'ERR_RENDER_INVALID');
    assert.equal(code(() => formatRaw({ a: '1' }, 'toString')), 'ERR_RENDER_FIELD_MISSING');
  });
});

describe('env', () => {
  it('single-quotes values, sorted by key', () => {
    assert.equal(formatEnv({ B: "it's", A: '$HOME `x` \\' }), "A='$HOME `x` \\'\nB='it'\\''s'\n");
  });
  it('refuses keys that are not variable names and NUL bytes, without quoting the value', () => {
    assert.equal(code(() => formatEnv({ '1A': 'x' })), 'ERR_RENDER_INVALID');
    assert.equal(code(() => formatEnv({ 'A-B': 'x' })), 'ERR_RENDER_INVALID');
    try {
      formatEnv({ A: 'sekrit\0' });
      assert.fail('no error');
    } catch (err) {
      assert.equal((err as { code: string }).code, 'ERR_RENDER_INVALID');
      assert.ok(!(err as Error).message.includes('sekrit'));
    }
  });
  it('reads back exactly through sh for any value (property)', () => {
    const value = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(value, (v) => {
        const file = formatEnv({ V: v });
        const r = spawnSync('sh', ['-c', `${file}\nprintf '%s' "$V"`], { encoding: 'utf8' });
        assert.equal(r.status, 0);
        assert.equal(r.stdout, v);
      }),
      { numRuns: 60 },
    );
  });
  it('quotes so nothing expands', () => {
    assert.equal(shellQuote('$(id)'), "'$(id)'");
  });
});

describe('json and yaml', () => {
  it('json is sorted and stable', () => {
    assert.equal(formatJson({ b: 1, a: { d: 1, c: 2 } }), '{\n  "a": {\n    "c": 2,\n    "d": 1\n  },\n  "b": 1\n}\n');
  });
  it('yaml keeps lookalikes as strings', () => {
    const f = { a: 'true', b: 'no', c: '0x10', d: '1e3', e: 'null', f: '~', g: '- x', h: 'a: b', i: 'plain', j: 7, k: ['x'], l: '', E0: 'E0', m: 'e5' };
    const text = formatYaml(f);
    assert.ok(text.includes('i: plain\n'));
    assert.deepEqual(parseYaml(text), f);
    assert.deepEqual(parseYaml(text, { version: '1.1' }), f);
  });
  it('yaml reads back the same fields for any JSON data, in YAML 1.2 and 1.1 (property)', () => {
    const data = fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })), { maxKeys: 5 });
    fc.assert(
      fc.property(data, (d) => {
        const f = JSON.parse(JSON.stringify(d)) as Record<string, unknown>; // drop __proto__ oddities
        const text = formatYaml(f);
        assert.deepEqual(parseYaml(text) ?? {}, f);
        assert.deepEqual(parseYaml(text, { version: '1.1' }) ?? {}, f);
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties', () => {
  it('escapes as java.util.Properties.store does', () => {
    assert.equal(propertiesEscape('a b=c:d#e!f', true), 'a\\ b\\=c\\:d\\#e\\!f');
    assert.equal(propertiesEscape(' lead mid', false), '\\ lead mid');
    assert.equal(propertiesEscape('tab\there\nnl\\é€😀', false), 'tab\\there\\nnl\\\\\\u00E9\\u20AC\\uD83D\\uDE00');
    assert.equal(formatProperties({ 'db.url': 'jdbc:pg://h/db' }), 'db.url=jdbc\\:pg\\://h/db\n');
  });
  it('reads back the same map through a Properties.load parser for any input (property)', () => {
    const data = fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 30 }), { maxKeys: 5 });
    fc.assert(
      fc.property(data, (d) => {
        const f = JSON.parse(JSON.stringify(d)) as Record<string, string>;
        const text = formatProperties(f);
        assert.ok(/^[\x20-\x7e\n]*$/.test(text), 'ASCII only');
        assert.deepEqual(loadProperties(text), f);
      }),
      { numRuns: 300 },
    );
  });
});
