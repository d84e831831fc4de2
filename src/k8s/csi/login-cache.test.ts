import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jwtExpiry, LoginCache } from './login-cache.ts';

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('csi login cache', () => {
  it('keeps a token for 2/3 of its TTL at most', () => {
    let now = 1_000_000;
    const c = new LoginCache(() => now);
    const t = jwt({ exp: now / 1000 + 3600 });
    assert.equal(c.set('k', 'arca-token', 600, t), true);
    now += 399_000;
    assert.equal(c.get('k'), 'arca-token');
    now += 2_000;
    assert.equal(c.get('k'), undefined);
  });

  it('never keeps a token past the pod token expiry (less a minute of skew)', () => {
    let now = 1_000_000;
    const c = new LoginCache(() => now);
    assert.equal(c.set('k', 'arca-token', 3600, jwt({ exp: now / 1000 + 120 })), true);
    now += 59_000;
    assert.equal(c.get('k'), 'arca-token');
    now += 2_000;
    assert.equal(c.get('k'), undefined);
    assert.equal(c.set('k2', 'arca-token', 3600, jwt({ exp: now / 1000 + 30 })), false, 'too close to expiry');
  });

  it('does not cache for pod tokens without exp, unparsable tokens or tokens without a TTL', () => {
    const c = new LoginCache(() => 0);
    assert.equal(c.set('a', 't', 600, jwt({ sub: 'x' })), false);
    assert.equal(c.set('b', 't', 600, 'not-a-jwt'), false);
    assert.equal(c.set('c', 't', 0, jwt({ exp: 1e9 })), false);
    assert.equal(c.size, 0);
    assert.equal(jwtExpiry(jwt({ exp: 10 })), 10_000);
  });

  it('keys by server, mount, role and the exact pod token', () => {
    const k = LoginCache.key('http://a', 'kubernetes', 'app', 'jwt-1');
    assert.notEqual(k, LoginCache.key('http://a', 'kubernetes', 'app', 'jwt-2'));
    assert.notEqual(k, LoginCache.key('http://a', 'kubernetes', 'other', 'jwt-1'));
    assert.notEqual(k, LoginCache.key('http://b', 'kubernetes', 'app', 'jwt-1'));
    assert.equal(k.includes('jwt-1'), false);
  });
});
