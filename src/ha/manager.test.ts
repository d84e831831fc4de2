import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../log/index.ts';
import { HaManager, type LeaseStore } from './manager.ts';

/** A lease that this replica always gets, and a clock the test moves (no timers involved). */
function world(takeoverMs: number, wins = true) {
  let now = 0;
  const calls = { acquire: 0, standby: 0, active: 0, heartbeat: 0 };
  const lease: LeaseStore = {
    tryAcquire: async () => {
      calls.acquire++;
      return wins;
    },
    heartbeat: async () => {
      calls.heartbeat++;
    },
    release: async () => {},
    current: async () => undefined,
    close: async () => {},
  };
  const m = new HaManager(lease, {
    apiAddr: 'https://a:8200',
    leaseSeconds: 6,
    log: silentLogger(),
    now: () => now,
    callbacks: {
      // Reloading keyring, mounts and tokens over the database: this takeover takes `takeoverMs`.
      becomeActive: async () => {
        calls.active++;
        now += takeoverMs;
      },
      becomeStandby: async () => {
        calls.standby++;
      },
      canCampaign: () => true,
    },
  });
  return { m, calls, advance: (ms: number) => (now += ms) };
}

describe('HA manager', () => {
  it('renews when a takeover is done, so a takeover longer than the lease does not step down at the next round', async () => {
    const w = world(9000);
    await w.m.settle();
    assert.equal(w.m.isActive, true);
    assert.equal(w.calls.acquire, 2, 'the round took the lease, then renewed it after the takeover');
    w.advance(2000); // the next round, lease/3 later
    await w.m.settle();
    assert.equal(w.m.isActive, true, 'still active: the deadline counts from the renewal, not from before the takeover');
    assert.equal(w.calls.standby, 0);
    await w.m.stop();
  });

  it('still steps down when no renewal came in time', async () => {
    const w = world(0);
    await w.m.settle();
    assert.equal(w.m.isActive, true);
    w.advance(6000); // a whole lease without a round (the event loop was stuck)
    await w.m.settle();
    // The round steps down first (its deadline passed), then takes the lease again as a new term.
    assert.equal(w.calls.standby, 1, 'stepped down: the lease could have been taken over meanwhile');
    assert.equal(w.calls.active, 2);
    await w.m.stop();
  });

  it('sends a heartbeat at most every third of the lease, not on every standby round', async () => {
    const w = world(0, false);
    await w.m.settle();
    assert.equal(w.calls.heartbeat, 1, 'the first round says the replica is there');
    for (let i = 0; i < 6; i++) {
      w.advance(1000); // a standby round every second
      await w.m.settle();
    }
    assert.equal(w.calls.acquire, 7, 'every round campaigned');
    assert.equal(w.calls.heartbeat, 4, 'one beat per 2 s (lease 6 s / 3): at 0, 2, 4 and 6 s');
    await w.m.stop();
  });
});
