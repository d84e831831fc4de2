import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withSecretRandom } from './secret-random.ts';

describe('withSecretRandom', () => {
  it('lends the asked length and never repeats a 42-byte draw across many blocks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const hex = withSecretRandom(42, (b) => {
        assert.equal(b.length, 42);
        return b.toString('hex');
      });
      seen.add(hex);
    }
    assert.equal(seen.size, 5000);
  });

  it('zeroes the bytes once the borrower returns, and also when it throws', () => {
    let kept: Buffer | undefined;
    const hex = withSecretRandom(32, (b) => {
      kept = b;
      return b.toString('hex');
    });
    assert.notEqual(hex, '00'.repeat(32));
    assert.ok(kept!.every((x) => x === 0));
    assert.throws(() =>
      withSecretRandom(32, (b) => {
        kept = b;
        throw new Error('boom');
      }),
    );
    assert.ok(kept!.every((x) => x === 0));
  });

  it('serves large draws directly and refuses negative sizes', () => {
    assert.equal(withSecretRandom(5000, (b) => b.length), 5000);
    assert.equal(withSecretRandom(0, (b) => b.length), 0);
    assert.throws(() => withSecretRandom(-1, () => 0), RangeError);
  });
});
