import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NONCE_BYTES, randomNonce } from './nonce.ts';

describe('randomNonce', () => {
  it('gives 12-byte nonces that never repeat across many blocks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const n = randomNonce();
      assert.equal(n.length, NONCE_BYTES);
      seen.add(Buffer.from(n).toString('hex'));
    }
    assert.equal(seen.size, 5000);
  });

  it('hands out copies: changing one nonce changes no other', () => {
    const a = randomNonce();
    const b = randomNonce();
    const before = Buffer.from(b).toString('hex');
    a.fill(0);
    assert.equal(Buffer.from(b).toString('hex'), before);
    assert.notEqual(a.buffer, b.buffer);
  });
});
