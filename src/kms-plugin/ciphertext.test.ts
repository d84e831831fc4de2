import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../errors/index.ts';
import { SecretCache } from './cache.ts';
import { encodeHeader, parseCiphertext } from './ciphertext.ts';

describe('plugin ciphertext format', () => {
  it('parses what it encodes: key_id, wrapped KEK, header as AAD, sealed part', () => {
    const header = encodeHeader('4be600f8-7366-47b8-b323-37ee5d3de18a', Buffer.from('vault:v1:abc'));
    const sealed = new Uint8Array(12 + 32 + 16).fill(7);
    const p = parseCiphertext(Buffer.concat([header, sealed]));
    assert.equal(p.keyId, '4be600f8-7366-47b8-b323-37ee5d3de18a');
    assert.equal(Buffer.from(p.wrappedKek).toString(), 'vault:v1:abc');
    assert.deepEqual(Buffer.from(p.header), Buffer.from(header));
    assert.deepEqual(Buffer.from(p.sealed), Buffer.from(sealed));
  });

  it('rejects an unknown format version and truncations with ERR_CRYPTO_DECRYPT', () => {
    const full = Buffer.concat([encodeHeader('k', Buffer.from('w')), Buffer.alloc(28)]);
    const bad = [Buffer.concat([Buffer.from([2]), full.subarray(1)]), full.subarray(0, full.length - 1), full.subarray(0, 3), Buffer.alloc(0)];
    for (const b of bad) assert.throws(() => parseCiphertext(b), (e) => isArcaError(e, 'ERR_CRYPTO_DECRYPT'));
  });

  it('never crashes on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          parseCiphertext(b);
        } catch (e) {
          assert.ok(isArcaError(e, 'ERR_CRYPTO_DECRYPT'));
        }
      }),
    );
  });
});

describe('SecretCache', () => {
  it('evicts the least recently used entry when full and expires entries after the TTL', () => {
    let now = 0;
    const c = new SecretCache(2, 1000, () => now);
    c.set('a', Buffer.from([1]), 'k1');
    c.set('b', Buffer.from([2]), 'k1');
    assert.ok(c.get('a'));
    c.set('c', Buffer.from([3]), 'k2');
    assert.equal(c.get('b'), undefined);
    assert.deepEqual(Buffer.from(c.get('a')!), Buffer.from([1]));
    now = 1500;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.get('c'), undefined);
  });

  it('prunes entries whose key_id is no longer allowed', () => {
    const c = new SecretCache(10, 1000, () => 0);
    c.set('a', Buffer.from([1]), 'old');
    c.set('b', Buffer.from([2]), 'new');
    assert.equal(c.prune((id) => id === 'new'), 1);
    assert.equal(c.get('a'), undefined);
    assert.ok(c.get('b'));
  });

  it('hands out copies, so a caller wiping its copy does not wipe the cache', () => {
    const c = new SecretCache(10, 1000, () => 0);
    c.set('a', Buffer.from([9, 9]), 'k');
    c.get('a')!.fill(0);
    assert.deepEqual(Buffer.from(c.get('a')!), Buffer.from([9, 9]));
  });
});
