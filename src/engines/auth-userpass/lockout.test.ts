import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCKOUT, UserLockout } from './lockout.ts';

describe('userpass lockout', () => {
  it('locks one user after the threshold, never another, and unlocks after the duration', () => {
    let now = 1_000_000;
    const l = new UserLockout(() => now);
    for (let i = 0; i < LOCKOUT.threshold - 1; i++) l.failed('a');
    assert.equal(l.locked('a'), false);
    l.failed('a');
    assert.equal(l.locked('a'), true);
    assert.equal(l.locked('b'), false);
    now += LOCKOUT.durationMs + 1;
    assert.equal(l.locked('a'), false);
  });

  it('forgets failures after a success and after the window', () => {
    let now = 0;
    const l = new UserLockout(() => now);
    for (let i = 0; i < LOCKOUT.threshold - 1; i++) l.failed('a');
    l.succeeded('a');
    l.failed('a');
    assert.equal(l.locked('a'), false);
    for (let i = 0; i < LOCKOUT.threshold - 2; i++) l.failed('a');
    now += LOCKOUT.windowMs + 1;
    l.failed('a');
    assert.equal(l.locked('a'), false);
  });

  it('keeps a locked user locked when many other names fail (bounded memory)', () => {
    const now = 0;
    const l = new UserLockout(() => now);
    for (let i = 0; i < LOCKOUT.threshold; i++) l.failed('victim-of-own-guesses');
    for (let i = 0; i < LOCKOUT.maxTracked + 10; i++) l.failed(`n${i}`);
    assert.equal(l.locked('victim-of-own-guesses'), true);
  });
});
