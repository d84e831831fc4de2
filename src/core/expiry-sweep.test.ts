/**
 * The expiry sweep: expired tokens (and their index entries and children) leave storage, wrapping
 * tokens nobody unwrapped leave with what they wrap, live state stays, and the sweep gives the event
 * loop turns. Real in-memory storage with an injected clock; the core-level tests run a real core
 * (barrier, token engine, real WrapStore) and ask for the sweep through `auth/token/tidy` and the tick.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../../test/harness/index.ts';
import { WrapStore } from '../identity/wrapping.ts';
import { Barrier } from '../barrier/index.ts';
import { randomKey } from '../crypto/index.ts';
import { InmemStorage, SCAN_BATCH, StorageView } from '../storage/index.ts';
import { ROOT_AUTHORIZER } from './authz.ts';
import { AuthMounts } from './builtin/auth-mounts.ts';
import { createSystemEngine } from './builtin/system.ts';
import { createTokenEngine } from './builtin/token.ts';
import { Core } from './core.ts';
import type { EngineRegistry } from './engine-registry.ts';
import { ExpirySweep, SWEEP_MIN_INTERVAL_MS } from './expiry-sweep.ts';
import type { LogicalRequest } from './request.ts';
import { TokenStore } from './tokens.ts';

const silent = pino({ level: 'silent' });

function store() {
  let now = 1_000_000_000_000;
  const raw = new InmemStorage();
  return { raw, tokens: new TokenStore(raw, () => now), advance: (s: number) => (now += s * 1000), clock: () => now };
}

const keys = async (raw: InmemStorage, prefix: string) => (await raw.list(prefix)).sort();

describe('token expiry sweep', () => {
  it('revokes expired tokens with their accessor and parent index entries, and keeps live ones', async () => {
    const { raw, tokens, advance } = store();
    const root = await tokens.create({ policies: ['root'], noParent: true });
    const short = await tokens.create({ policies: ['a'], ttl: 60, noParent: true });
    const parent = await tokens.create({ policies: ['p'], ttl: 60, noParent: true });
    const child = await tokens.create({ policies: ['c'], ttl: 600, parent: parent.entry });
    const long = await tokens.create({ policies: ['b'], ttl: 3600, noParent: true });
    assert.equal((await keys(raw, 'id/')).length, 5);
    assert.equal((await tokens.sweepExpired()).revoked, 0, 'nothing has expired yet');
    assert.equal((await keys(raw, 'id/')).length, 5);

    advance(61);
    // The child's expiry is capped at its parent's: it is revoked by itself or with the parent,
    // whichever the sweep reaches first (ids are HMACs, so the order is random); only the former counts.
    const swept = (await tokens.sweepExpired()).revoked;
    assert.ok(swept === 2 || swept === 3, `the short token, the parent and maybe the child: ${swept}`);
    assert.deepEqual(await keys(raw, 'id/'), [root.entry.id, long.entry.id].sort());
    assert.deepEqual(await keys(raw, 'accessor/'), [root.entry.accessor, long.entry.accessor].sort());
    assert.deepEqual(await keys(raw, 'parent/'), [], 'no child index is left behind');
    for (const t of [short, parent, child]) assert.equal(await tokens.lookupAccessor(t.entry.accessor), undefined);
    assert.ok(await tokens.lookup(long.token), 'a live token is still served');
    assert.ok(await tokens.lookup(root.token), 'a token without expiry is never swept');
    assert.equal((await tokens.sweepExpired()).revoked, 0, 'a second sweep finds nothing');
  });

  it('keeps a token renewed before its first expiry, and sweeps it at the renewed one', async () => {
    const { raw, tokens, advance } = store();
    const t = await tokens.create({ policies: ['a'], ttl: 60, explicitMaxTtl: 600, noParent: true });
    advance(50);
    await tokens.renew((await tokens.lookup(t.token))!, 120);
    advance(20);
    assert.equal((await tokens.sweepExpired()).revoked, 0, 'renewed to 50 + 120 s');
    assert.deepEqual(await keys(raw, 'id/'), [t.entry.id]);
    advance(101);
    assert.equal((await tokens.sweepExpired()).revoked, 1);
    assert.deepEqual(await keys(raw, 'id/'), []);
  });

  it('sweeps a spent limited-use token a crash left behind, not one a request still holds', async () => {
    const { raw, tokens, clock } = store();
    const t = await tokens.create({ policies: ['a'], ttl: 3600, numUses: 1, noParent: true });
    await tokens.consume((await tokens.lookup(t.token))!);
    assert.equal((await tokens.sweepExpired()).revoked, 0, 'the request that spent the last use is still running');
    assert.deepEqual(await keys(raw, 'id/'), [t.entry.id]);
    const restarted = new TokenStore(raw, clock);
    assert.equal((await restarted.sweepExpired()).revoked, 1, 'after a restart nothing holds it: it is revoked');
    assert.deepEqual(await keys(raw, 'id/'), []);
  });

  it('gives the event loop turns while it reads a large store', async () => {
    const { raw, tokens, advance } = store();
    for (let i = 0; i < SCAN_BATCH * 3; i++) await tokens.create({ policies: ['a'], ttl: 60, noParent: true });
    advance(61);
    // In-memory storage answers in microtasks: without turns the whole sweep would end before this runs.
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const swept = (await tokens.sweepExpired()).revoked;
    assert.equal(swept, SCAN_BATCH * 3);
    assert.ok(turned, 'an immediate scheduled before the sweep ran before it ended');
    assert.deepEqual(await keys(raw, 'id/'), []);
  });
});

describe('token expiry sweep over the barrier', () => {
  it("reads every token without keeping it in the barrier's cache, and serves hot entries from it", async () => {
    let gets = 0;
    const raw = new (class extends InmemStorage {
      override get(key: string) {
        gets++;
        return super.get(key);
      }
    })();
    const root = randomKey();
    const barrier = new Barrier(raw);
    await barrier.initialize(root);
    await barrier.unseal(root);
    const tokens = new TokenStore(new StorageView(barrier, 'sys/token/'), () => 1_000_000_000_000);
    for (let i = 0; i < 20; i++) await tokens.create({ policies: ['a'], ttl: 600, noParent: true });
    await barrier.put('logical/hot', new TextEncoder().encode('policy'));
    await barrier.get('logical/hot');
    gets = 0;
    assert.equal((await tokens.sweepExpired()).scanned, 20);
    const first = gets;
    assert.ok(first >= 20, `the sweep read each token from storage: ${first}`);
    gets = 0;
    await tokens.sweepExpired();
    assert.equal(gets, first, 'the second sweep reads storage as much as the first: nothing was kept');
    gets = 0;
    await barrier.get('logical/hot');
    assert.equal(gets, 0, 'a hot entry is still served from the cache');
  });
});

describe('wrapping token sweep', () => {
  it('deletes expired wrapping tokens with the response they wrap, and keeps live ones', async () => {
    let now = 1_000_000_000_000;
    const raw = new InmemStorage();
    const wraps = new WrapStore(() => raw, () => now);
    const old = await wraps.create({ ttl: 60, creationPath: 'secret/data/a', kind: 'response', response: { data: { v: 1 } } });
    const fresh = await wraps.create({ ttl: 600, creationPath: 'secret/data/b', kind: 'response', response: { data: { v: 2 } } });
    assert.equal(await wraps.sweepExpired(), 0);
    now += 61_000;
    assert.equal(await wraps.sweepExpired(), 1);
    assert.deepEqual(await keys(raw, 'accessor/'), [fresh.entry.accessor]);
    assert.equal((await keys(raw, 'token/')).length, 1);
    await assert.rejects(wraps.lookup(old.token), { code: 'ERR_WRAPPING_INVALID' });
    assert.equal((await wraps.lookup(fresh.token)).creationPath, 'secret/data/b');
  });
});

describe('ExpirySweep scheduling', () => {
  function sweeper(opts: { sweepTakesMs?: number; intervalMs?: number } = {}) {
    let now = 5_000_000;
    let calls = 0;
    const tokens = {
      sweepExpired: async () => {
        calls++;
        now += opts.sweepTakesMs ?? 0;
        await new Promise((r) => setImmediate(r));
        return { revoked: 3, scanned: 5 };
      },
    } as unknown as TokenStore;
    const s = new ExpirySweep({ now: () => now, tokens: () => tokens, governance: async () => 2, log: silent, intervalMs: opts.intervalMs });
    return { s, calls: () => calls, advance: (ms: number) => (now += ms) };
  }

  it('is due at the first tick, then once per interval', async () => {
    const { s, advance } = sweeper();
    assert.equal(s.due(), true);
    assert.equal(s.stats.storedTokens, -1, 'unknown before the first sweep');
    assert.deepEqual(await s.run(), { tokens: 3, governance: 2 });
    assert.deepEqual({ ...s.stats }, { runs: 1, failures: 0, revokedTokens: 3, deletedGovernance: 2, storedTokens: 5, lastSuccessAt: 5_000_000 });
    await s.run();
    assert.equal(s.stats.revokedTokens, 6, 'totals add up across sweeps');
    assert.equal(s.due(), false);
    advance(SWEEP_MIN_INTERVAL_MS - 1);
    assert.equal(s.due(), false);
    advance(1);
    assert.equal(s.due(), true);
  });

  it("waits the server's configured interval instead of the default", async () => {
    const { s, calls, advance } = sweeper({ intervalMs: 3_600_000 });
    await s.run();
    advance(SWEEP_MIN_INTERVAL_MS);
    assert.equal(s.due(), false, 'an hour-long interval is not due after the default minute');
    advance(3_600_000 - SWEEP_MIN_INTERVAL_MS - 1);
    assert.equal(s.due(), false);
    advance(1);
    assert.equal(s.due(), true);
    await s.run();
    assert.equal(calls(), 2);
  });

  it('waits at least 100 times as long as the last sweep took', async () => {
    const { s, advance } = sweeper({ sweepTakesMs: 10_000 });
    await s.run();
    advance(SWEEP_MIN_INTERVAL_MS);
    assert.equal(s.due(), false, 'a 10 s sweep is next due after 1000 s, not 60 s');
    advance(1_000_000 - SWEEP_MIN_INTERVAL_MS);
    assert.equal(s.due(), true);
  });

  it('counts a failed sweep, and waits the interval before the next one', async () => {
    const tokens = { sweepExpired: () => Promise.reject(new Error('storage down')) } as unknown as TokenStore;
    const s = new ExpirySweep({ now: () => 1000, tokens: () => tokens, log: silent });
    await assert.rejects(s.run(), /storage down/);
    assert.equal(s.stats.failures, 1);
    assert.equal(s.stats.lastSuccessAt, 0);
    assert.equal(s.due(), false);
  });

  it('runs one sweep at a time: a second caller joins the running one', async () => {
    const { s, calls } = sweeper();
    const a = s.run();
    assert.equal(s.running, true);
    assert.equal(s.due(), false, 'not due while running');
    const b = s.run();
    assert.equal(a, b);
    await a;
    assert.equal(calls(), 1);
    assert.equal(s.running, false);
  });
});

describe('expiry sweep in the core', () => {
  async function start(tickMs?: number) {
    let now = 1_000_000_000_000;
    const raw = new InmemStorage();
    const engines: EngineRegistry = new Map();
    engines.set('system', (_ctx, _o, core) => createSystemEngine(core, [new AuthMounts(() => core, [])]));
    engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
    let coreRef: Core | undefined;
    const wrapView = () => new StorageView(coreRef!.barrier, 'sys/wrapping/');
    const wraps = new WrapStore(wrapView, () => now);
    const core = new Core({
      raw, log: silent, storageType: 'inmem', engines, now: () => now, authorizer: async () => ROOT_AUTHORIZER, ...(tickMs ? { tickMs } : {}),
      governance: {
        defer: () => Promise.reject(new Error('not under test')),
        wrap: async (res, ttl, path) => (await wraps.create({ ttl, creationPath: path, kind: 'response', response: res })).info,
        sweep: () => wraps.sweepExpired(),
      },
    });
    coreRef = core;
    await core.start();
    const init = await core.init({ secretShares: 1, secretThreshold: 1, recoveryShares: 1, recoveryThreshold: 1 });
    await core.submitUnsealKey(init.keys[0]!);
    let n = 0;
    const call = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown>, extra: Partial<LogicalRequest> = {}) =>
      core.handle({ id: `r${n++}`, operation, path, data, token: init.rootToken, clientAddr: '127.0.0.1', ...extra });
    const accessors = async () => ((await call('list', 'auth/token/accessors', {})).data as { keys: string[] }).keys;
    return { core, call, accessors, wrapKeys: () => wrapView().list('token/'), advance: (s: number) => (now += s * 1000) };
  }

  const turn = () => new Promise((r) => setImmediate(r));

  it('auth/token/tidy answers 202 and removes expired tokens and wrapping tokens; live ones stay', async () => {
    const { core, call, accessors, wrapKeys, advance } = await start();
    const short = ((await call('write', 'auth/token/create', { ttl: '1m' })).auth as { accessor: string }).accessor;
    const long = ((await call('write', 'auth/token/create', { ttl: '1h' })).auth as { accessor: string }).accessor;
    const wrapped = await call('write', 'auth/token/create', { ttl: '1h' }, { wrapTtl: 60 });
    assert.ok(wrapped.wrapInfo, 'the response was wrapped');
    assert.equal((await wrapKeys()).length, 1);
    advance(61);
    assert.equal((await accessors()).includes(short), true, 'nothing has looked at the expired token yet');

    const tidy = await call('write', 'auth/token/tidy', {});
    assert.equal(tidy.status, 202);
    assert.match(String(tidy.warnings), /Tidy operation successfully started/);
    while (core.expirySweep.running) await turn();
    const left = await accessors();
    assert.equal(left.includes(short), false, 'the expired token is gone');
    assert.equal(left.includes(long), true, 'the live token stays');
    assert.deepEqual(await wrapKeys(), [], 'the wrapped response nobody unwrapped is gone');
    assert.equal(core.expirySweep.stats.revokedTokens, 1);
    assert.equal(core.expirySweep.stats.deletedGovernance, 1);
    assert.equal(core.expirySweep.stats.storedTokens, 4, 'root, the expired one, the live one and the one inside the wrap');
    await core.close();
  });

  it('sweeps on its own from the tick once unsealed', async () => {
    const { core, call, accessors, advance } = await start(5);
    const short = ((await call('write', 'auth/token/create', { ttl: '1m' })).auth as { accessor: string }).accessor;
    advance(61);
    // The first tick after unseal is due; the injected clock does not move, so it is the only sweep.
    await waitFor('the tick to sweep the expired token', async () => ((await accessors()).includes(short) ? undefined : true), 60_000, 5);
    assert.equal(core.expirySweep.running, false);
    await core.close();
  });
});
