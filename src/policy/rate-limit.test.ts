import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureLimiter } from './rate-limit.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('FailureLimiter', () => {
  it('allows a burst of failures then limits the client', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 3, refillPerSecond: 0.5, now: c.now });
    assert.equal(l.check('10.0.0.1').limited, false);
    assert.equal(l.recordFailure('10.0.0.1').remaining, 2);
    l.recordFailure('10.0.0.1');
    const s = l.recordFailure('10.0.0.1');
    assert.equal(s.limited, true);
    assert.equal(s.retryAfterMs, 2000);
    assert.equal(l.check('10.0.0.1').limited, true);
  });

  it('keeps clients apart', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 1, refillPerSecond: 1, now: c.now });
    l.recordFailure('a');
    assert.equal(l.check('a').limited, true);
    assert.equal(l.check('b').limited, false);
  });

  it('refills over time and caps at the burst', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 2, refillPerSecond: 1, now: c.now });
    l.recordFailure('a');
    l.recordFailure('a');
    assert.equal(l.check('a').limited, true);
    c.advance(999);
    assert.equal(l.check('a').limited, true);
    assert.equal(l.check('a').retryAfterMs, 1);
    c.advance(1);
    assert.equal(l.check('a').limited, false);
    c.advance(60_000);
    assert.equal(l.check('a').remaining, 2);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 1, refillPerSecond: 1, now: c.now });
    l.recordFailure('a');
    c.advance(-10_000);
    assert.equal(l.check('a').limited, true);
  });

  it('bounds memory, dropping refilled buckets first', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 2, refillPerSecond: 1, now: c.now, maxKeys: 3 });
    l.recordFailure('a');
    l.recordFailure('b');
    c.advance(5000);
    l.recordFailure('c');
    l.recordFailure('c');
    l.recordFailure('c');
    l.recordFailure('d');
    assert.ok(l.size <= 3);
    assert.equal(l.check('c').limited, true);
  });

  it('forgets a client on reset', () => {
    const c = clock();
    const l = new FailureLimiter({ burst: 1, refillPerSecond: 0.001, now: c.now });
    l.recordFailure('a');
    assert.equal(l.has('a'), true);
    l.reset('a');
    assert.equal(l.check('a').limited, false);
    // check() never creates a bucket: only failures do.
    assert.equal(l.has('a'), false);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => new FailureLimiter({ burst: 0, refillPerSecond: 1, now: Date.now }), RangeError);
    assert.throws(() => new FailureLimiter({ burst: 1, refillPerSecond: 0, now: Date.now }), RangeError);
  });
});
