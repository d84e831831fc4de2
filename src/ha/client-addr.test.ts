import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CLIENT_ADDR_HEADER, CLIENT_ADDR_MAC_HEADER, signClientAddr, verifiedClientAddr } from './client-addr.ts';

describe('forwarded client address', () => {
  const key = new Uint8Array(randomBytes(32));

  it('round-trips an IPv4 and an IPv6 address', () => {
    for (const addr of ['10.1.2.3', '::ffff:192.168.0.9', 'fe80::1']) {
      assert.equal(verifiedClientAddr(key, signClientAddr(key, 'req-1', addr)), addr);
    }
  });

  it('ignores the header without a valid MAC', () => {
    const h = signClientAddr(key, 'req-1', '10.1.2.3');
    assert.equal(verifiedClientAddr(new Uint8Array(randomBytes(32)), h), undefined, 'other cluster key');
    assert.equal(verifiedClientAddr(key, { ...h, [CLIENT_ADDR_HEADER]: 'req-1 10.1.2.4' }), undefined, 'address changed');
    assert.equal(verifiedClientAddr(key, { ...h, [CLIENT_ADDR_HEADER]: 'req-2 10.1.2.3' }), undefined, 'replayed with another nonce');
    assert.equal(verifiedClientAddr(key, { [CLIENT_ADDR_HEADER]: h[CLIENT_ADDR_HEADER] }), undefined, 'no MAC');
    assert.equal(verifiedClientAddr(undefined, h), undefined, 'sealed: no key');
    assert.equal(verifiedClientAddr(key, { ...h, [CLIENT_ADDR_MAC_HEADER]: 'x' }), undefined, 'short MAC');
  });

  it('refuses values that are not addresses', () => {
    assert.equal(verifiedClientAddr(key, signClientAddr(key, 'n', 'evil\nvalue')), undefined);
  });
});
