/**
 * Issue 12 items 1, 5, 7: num_uses spent atomically, TTLs bounded (system max, parent, period), and
 * stored records that always load. The store runs on real in-memory storage with an injected clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.ts';
import { SYSTEM_MAX_TTL } from './token-ttl.ts';
import { type TokenEntry, TokenStore } from './tokens.ts';

function store() {
  let now = 1_000_000_000_000;
  const raw = new InmemStorage();
  const clock = () => now;
  return { raw, clock, tokens: new TokenStore(raw, clock), advance: (s: number) => (now += s * 1000) };
}

/** Rewrites a stored entry as an older server (without range checks) could have left it. */
async function rewrite(raw: InmemStorage, e: TokenEntry, patch: Record<string, unknown>): Promise<void> {
  const b = (await raw.get(`id/${e.id}`))!;
  const stored = JSON.parse(Buffer.from(b).toString('utf8')) as Record<string, unknown>;
  await raw.put(`id/${e.id}`, new TextEncoder().encode(JSON.stringify({ ...stored, ...patch })));
}

async function parallelUses(tokens: TokenStore[], token: string, n: number): Promise<number> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const t = tokens[i % tokens.length]!;
      const e = await t.lookup(token);
      if (!e) throw new Error('refused at lookup');
      const used = await t.consume(e);
      await new Promise((r) => setImmediate(r)); // the "request" runs while others race
      await t.release(used);
    }),
  );
  return results.filter((r) => r.status === 'fulfilled').length;
}

describe('token limits', () => {
  it('grants exactly num_uses of 16 parallel uses (1 and 3)', async () => {
    for (const uses of [1, 3]) {
      const { tokens } = store();
      const { token } = await tokens.create({ policies: ['a'], numUses: uses });
      assert.equal(await parallelUses([tokens], token, 16), uses);
      assert.equal(await tokens.lookup(token), undefined);
    }
  });

  it('grants exactly num_uses across two stores sharing one storage (HA replicas)', async () => {
    const { raw, clock, tokens } = store();
    const other = new TokenStore(raw, clock);
    const { token } = await tokens.create({ policies: ['a'], numUses: 3 });
    assert.equal(await parallelUses([tokens, other], token, 16), 3);
  });

  it('changes nothing when a use is refused', async () => {
    const { raw, tokens } = store();
    const { token, entry } = await tokens.create({ policies: ['a'], numUses: 1 });
    const held = await tokens.consume((await tokens.lookup(token))!);
    const before = Buffer.from((await raw.get(`id/${entry.id}`))!).toString('hex');
    await assert.rejects(tokens.consume(entry), { code: 'ERR_TOKEN_INVALID' });
    assert.equal(Buffer.from((await raw.get(`id/${entry.id}`))!).toString('hex'), before);
    await tokens.release(held);
  });

  it('revokes a last use left pending by a crashed request on the next lookup', async () => {
    const { raw, clock, tokens } = store();
    const { token, entry } = await tokens.create({ policies: ['a'], numUses: 1 });
    await tokens.consume((await tokens.lookup(token))!);
    const restarted = new TokenStore(raw, clock);
    assert.equal(await restarted.lookup(token), undefined);
    assert.equal(await raw.get(`id/${entry.id}`), undefined);
  });

  it('refuses children of a limited-use token', async () => {
    const { tokens } = store();
    const { entry } = await tokens.create({ policies: ['a'], numUses: 3 });
    await assert.rejects(tokens.create({ policies: ['a'], parent: entry }), { code: 'ERR_INVALID_REQUEST' });
  });

  it('caps create and renew at the system max TTL from creation', async () => {
    const { tokens, advance } = store();
    const { entry } = await tokens.create({ policies: ['a'], ttl: 87600 * 3600 });
    assert.equal(entry.ttl, SYSTEM_MAX_TTL);
    advance(SYSTEM_MAX_TTL - 100);
    const r = await tokens.renew(entry, 87600 * 3600);
    assert.equal(r.entry.ttl, 100);
    assert.equal(r.capped, true);
    const { entry: dflt } = await tokens.create({ policies: ['a'] });
    assert.equal(dflt.ttl, SYSTEM_MAX_TTL, 'a non-root token without a TTL gets the default');
    const { entry: root } = await tokens.create({ policies: ['root'] });
    assert.equal(root.expireAt, 0, 'a root token without a TTL never expires');
  });

  it("caps a child at its parent's remaining life on create and renew, and cuts it when the parent expires", async () => {
    const { tokens, advance } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 20 });
    const child = await tokens.create({ policies: ['p'], ttl: 3600, parent: parent.entry });
    assert.equal(child.entry.ttl, 20);
    advance(5);
    const renewed = await tokens.renew((await tokens.lookup(child.token))!, 87600 * 3600);
    assert.equal(renewed.entry.ttl, 15, 'renew-self cannot reach past the parent');
    assert.equal(renewed.entry.expireAt, parent.entry.expireAt);
    assert.ok(await tokens.lookup(child.token));
    advance(16);
    assert.equal(await tokens.lookup(child.token), undefined);
    assert.equal(await tokens.lookup(parent.token), undefined);
  });

  it('shortens the children when a parent renews to a shorter life', async () => {
    const { tokens, advance } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 3600 });
    const child = await tokens.create({ policies: ['p'], ttl: 3600, parent: parent.entry });
    const grandchild = await tokens.create({ policies: ['p'], ttl: 3600, parent: child.entry });
    assert.ok(await tokens.lookup(grandchild.token), 'cached');
    await tokens.renew(parent.entry, 10);
    advance(11);
    assert.equal(await tokens.lookup(grandchild.token), undefined);
    assert.equal(await tokens.lookup(child.token), undefined);
  });

  it('never serves a stored child past its parent, even one written before children were capped', async () => {
    const { raw, clock, tokens, advance } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 20 });
    const child = await tokens.create({ policies: ['p'], ttl: 20, parent: parent.entry });
    await rewrite(raw, child.entry, { expireAt: child.entry.createdAt + 87600 * 3600 });
    const fresh = new TokenStore(raw, clock);
    assert.ok(await fresh.lookup(child.token), "cached with the parent's expiry");
    advance(21);
    assert.equal(await fresh.lookup(child.token), undefined);
  });

  it('revokes children whose parent is gone (an interrupted revocation)', async () => {
    const { raw, clock, tokens } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 3600 });
    const child = await tokens.create({ policies: ['p'], ttl: 3600, parent: parent.entry });
    await raw.delete(`id/${parent.entry.id}`);
    assert.equal(await new TokenStore(raw, clock).lookup(child.token), undefined);
  });

  it('gives a periodic token its period as TTL, resets it on renew, with no max TTL', async () => {
    const { raw, clock, advance } = store();
    const tokens = new TokenStore(raw, clock, 600); // a 10-minute system max keeps the loop short
    const p = await tokens.create({ policies: ['a'], period: 60 });
    assert.equal(p.entry.ttl, 60);
    assert.equal(p.entry.renewable, true);
    // Renewed every 50 s, as a client would, until well past the system max TTL.
    for (let i = 0; i < 30; i++) {
      advance(50);
      const r = await tokens.renew(p.entry, 7200);
      assert.equal(r.entry.ttl, 60, 'the increment is ignored: the period is the TTL');
    }
    assert.ok(await tokens.lookup(p.token), 'alive past the system max TTL');
    advance(61);
    assert.equal(await tokens.lookup(p.token), undefined);
  });

  it('bounds a periodic token by explicit_max_ttl', async () => {
    const { tokens, advance } = store();
    const { entry } = await tokens.create({ policies: ['a'], period: 60, explicitMaxTtl: 90 });
    advance(50);
    assert.equal((await tokens.renew(entry)).entry.ttl, 40);
  });

  it('refuses out-of-range numbers and loads records stored before they were checked', async () => {
    const { raw, clock, tokens } = store();
    for (const bad of [{ ttl: 1e20 }, { ttl: -1 }, { numUses: -1 }, { period: Number.NaN }, { explicitMaxTtl: 1.5 }]) {
      await assert.rejects(tokens.create({ policies: ['a'], ...bad }), { code: 'ERR_INVALID_REQUEST' }, JSON.stringify(bad));
    }
    const old = await tokens.create({ policies: ['root'] });
    await rewrite(raw, old.entry, { expireAt: 1e20, ttl: 1e20, numUses: -1, explicitMaxTtl: null });
    const e = (await new TokenStore(raw, clock).lookup(old.token))!;
    assert.ok(e, 'still loads');
    assert.ok(Number.isSafeInteger(e.expireAt) && !Number.isNaN(new Date(e.expireAt * 1000).getTime()));
    assert.equal(e.numUses, 0, 'a stored negative num_uses meant unlimited');
    assert.equal(e.explicitMaxTtl, 0);
  });
});
