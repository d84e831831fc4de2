import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addrInCidrs, validCidr } from './cidr.ts';

describe('CIDR blocks (token_bound_cidrs)', () => {
  it('takes IPv4 and IPv6 addresses and blocks, and refuses anything else', () => {
    for (const ok of ['10.0.0.0/8', '10.1.2.3', '10.1.2.3/32', 'fd00::/8', '::1', '0.0.0.0/0']) assert.equal(validCidr(ok), true, ok);
    for (const bad of ['', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129', 'example.com', '10.0.0.0/x', '10.0.0/8']) assert.equal(validCidr(bad), false, bad);
  });

  it('matches client addresses as node reports them, IPv4-mapped IPv6 included', () => {
    const cidrs = ['10.0.0.0/8', 'fd12::/16', '192.168.1.7'];
    assert.equal(addrInCidrs(cidrs, '10.200.0.1'), true);
    assert.equal(addrInCidrs(cidrs, '::ffff:10.200.0.1'), true);
    assert.equal(addrInCidrs(cidrs, 'fd12::9'), true);
    assert.equal(addrInCidrs(cidrs, '192.168.1.7'), true);
    assert.equal(addrInCidrs(cidrs, '192.168.1.8'), false);
    assert.equal(addrInCidrs(cidrs, '11.0.0.1'), false);
    assert.equal(addrInCidrs(cidrs, ''), false, 'an unknown address is never inside');
    assert.equal(addrInCidrs(cidrs, '10.0.0.1'), true, 'a second check of the same list (from its cached BlockList) still matches');
    assert.equal(addrInCidrs(cidrs, '11.0.0.2'), false, 'and still refuses');
    assert.equal(addrInCidrs([], '203.0.113.9'), true, 'no blocks: any address');
    assert.equal(addrInCidrs(['not-a-cidr'], '10.0.0.1'), false, 'an invalid entry matches nothing, it never widens');
  });
});
