import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { globMatch } from './glob.ts';

/** What the matcher must agree with: `*` as `.*`, everything else literal, anchored at both ends. */
function byRegex(pattern: string, value: string, flags = ''): boolean {
  const body = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, `s${flags}`).test(value);
}

describe('globMatch', () => {
  it('matches `*` anywhere, as Vault does', () => {
    assert.ok(globMatch('*', 'anything'));
    assert.ok(globMatch('web-*', 'web-frontend'));
    assert.ok(globMatch('*-prod', 'db-prod'));
    assert.ok(globMatch('a*b*c', 'aXbYc'));
    assert.ok(globMatch('*.example.com', 'a.b.example.com'));
    assert.ok(!globMatch('web-*', 'api'));
    assert.ok(!globMatch('a*a', 'a'), 'the prefix and suffix may not overlap');
    assert.ok(!globMatch('api', 'api2'));
    assert.ok(!globMatch('a.c', 'abc'), '"." is a literal, not a regular expression');
  });

  it('is case-sensitive unless told otherwise', () => {
    assert.ok(!globMatch('Web-*', 'web-frontend'));
    assert.ok(globMatch('Web-*', 'WEB-frontend', { ignoreCase: true }));
    assert.ok(globMatch('*.EXAMPLE.com', 'a.example.COM', { ignoreCase: true }));
  });

  it('agrees with the anchored regular expression on any pattern and value', () => {
    const chars = fc.constantFrom('a', 'b', '*', '.', 'A', '-');
    const str = fc.array(chars, { maxLength: 8 }).map((c) => c.join(''));
    fc.assert(
      fc.property(str, str, (p, v) => {
        const value = v.replaceAll('*', 'x');
        assert.equal(globMatch(p, value), byRegex(p, value), `${p} ~ ${value}`);
        assert.equal(globMatch(p, value, { ignoreCase: true }), byRegex(p, value, 'i'), `${p} ~i ${value}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws, a literal matches only itself, and `*` matches everything', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (p, v) => {
        globMatch(p, v);
        if (!p.includes('*')) assert.equal(globMatch(p, v), p === v);
        assert.ok(globMatch(`${p}*`, `${p}${v}`));
        assert.ok(globMatch('*', v));
      }),
    );
  });
});
