import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkCommonName, checkUri, isHostname } from './names.ts';
import { defaultRole } from './roles.ts';
import { serialColons, serialStorage } from './store.ts';

describe('pki name checks', () => {
  const role = { ...defaultRole(), allowed_domains: ['example.com'], allow_subdomains: true };

  it('allows subdomains of an allowed domain only', () => {
    assert.doesNotThrow(() => checkCommonName(role, 'a.b.example.com'));
    for (const bad of ['example.com', 'evilexample.com', 'example.com.evil.org', 'a.example.co']) {
      assert.throws(() => checkCommonName(role, bad), { code: 'ERR_PKI_NAME_NOT_ALLOWED' }, bad);
    }
    assert.doesNotThrow(() => checkCommonName({ ...role, allow_bare_domains: true }, 'example.com'));
  });

  it('never crashes on arbitrary names, globs and serials', () => {
    fc.assert(fc.property(fc.string(), (a) => {
      isHostname(a);
      const s = serialStorage(a);
      if (s !== undefined) assert.match(serialColons(s.replace(/-/g, '')), /^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
      try {
        checkCommonName(role, a);
      } catch (err) {
        assert.ok((err as { code?: string }).code?.startsWith('ERR_'));
      }
    }));
  });

  it('treats regex metacharacters in allowed_uri_sans globs literally', () => {
    const r = { ...role, allowed_uri_sans: ['spiffe://a.b/*'] };
    assert.throws(() => checkUri(r, 'spiffe://aXb/x'), { code: 'ERR_PKI_NAME_NOT_ALLOWED' });
    assert.doesNotThrow(() => checkUri(r, 'spiffe://a.b/x/y'));
  });
});
