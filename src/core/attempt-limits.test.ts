import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { AttemptLimits } from './attempt-limits.ts';

const limited = (e: unknown) => isArcaError(e, 'ERR_RATE_LIMITED');

describe('AttemptLimits', () => {
  it('answers an address 429 only after its burst of failures, and only for failures', () => {
    let now = 0;
    const l = new AttemptLimits(() => now, silentLogger());
    for (let i = 0; i < 10; i++) l.lookupFailed('10.0.0.1', `bad-${i}`);
    assert.throws(() => l.lookupFailed('10.0.0.1', 'bad-x'), limited);
    // A token never presented before is looked up (not refused) even from the limited address:
    // beforeLookup refuses only a credential that itself failed a burst there.
    assert.doesNotThrow(() => l.beforeLookup('10.0.0.1', 'valid-root-token'));
    // Another address is not affected.
    assert.doesNotThrow(() => l.lookupFailed('10.0.0.2', 'bad-0'));
    now += 5_000;
    assert.doesNotThrow(() => l.lookupFailed('10.0.0.1', 'bad-y'));
  });

  it('refuses a credential that failed a burst from one address before looking it up, there only', () => {
    const l = new AttemptLimits(() => 0, silentLogger());
    for (let i = 0; i < 10; i++) {
      assert.doesNotThrow(() => l.beforeLookup('10.0.0.1', 'same-bad'));
      try {
        l.lookupFailed('10.0.0.1', 'same-bad');
      } catch {}
    }
    assert.throws(() => l.beforeLookup('10.0.0.1', 'same-bad'), limited);
    // Other addresses failing (so the credential check runs only where an address has failed) changes nothing.
    for (let i = 0; i < 5; i++) l.lookupFailed(`10.0.1.${i}`, 'x');
    assert.throws(() => l.beforeLookup('10.0.0.1', 'same-bad'), limited);
    assert.doesNotThrow(() => l.beforeLookup('10.0.1.0', 'same-bad'));
    assert.doesNotThrow(() => l.beforeLookup('10.0.0.2', 'same-bad'));
    assert.doesNotThrow(() => l.beforeLookup('10.0.0.1', 'other'));
  });

  it('limits bad unseal shares per address', () => {
    const l = new AttemptLimits(() => 0, silentLogger());
    for (let i = 0; i < 10; i++) {
      l.beforeUnseal('a');
      l.unsealFailed('a');
    }
    assert.throws(() => l.beforeUnseal('a'), limited);
    assert.doesNotThrow(() => l.beforeUnseal('b'));
  });
});
