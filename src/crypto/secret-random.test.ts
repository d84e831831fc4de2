import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretRandom } from './secret-random.ts';

describe('secretRandom', () => {
  it('gives the asked length and never repeats a 42-byte draw across many blocks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const b = secretRandom(42);
      assert.equal(b.length, 42);
      seen.add(b.toString('hex'));
    }
    assert.equal(seen.size, 5000);
  });

  it('hands out copies that share no memory with each other', () => {
    const a = secretRandom(32);
    const b = secretRandom(32);
    const before = b.toString('hex');
    a.fill(0);
    assert.equal(b.toString('hex'), before);
    assert.notEqual(a.buffer, b.buffer);
  });

  it('is not all zeros (the block is zeroed only behind what was handed out)', () => {
    for (let i = 0; i < 200; i++) assert.ok(secretRandom(18).some((x) => x !== 0));
  });

  it('serves large requests directly and refuses negative sizes', () => {
    assert.equal(secretRandom(5000).length, 5000);
    assert.equal(secretRandom(0).length, 0);
    assert.throws(() => secretRandom(-1), RangeError);
  });
});
