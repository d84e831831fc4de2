import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.ts';
import { TokenStore } from './tokens.ts';

function store() {
  let now = 1_000_000_000_000;
  const raw = new InmemStorage();
  return { raw, tokens: new TokenStore(raw, () => now), advance: (s: number) => (now += s * 1000) };
}

async function dump(raw: InmemStorage): Promise<string> {
  let out = '';
  const walk = async (p: string) => {
    for (const k of await raw.list(p)) {
      if (k.endsWith('/')) await walk(p + k);
      else out += `${p}${k}=${Buffer.from((await raw.get(p + k))!).toString('latin1')}\n`;
    }
  };
  await walk('');
  return out;
}

describe('token store', () => {
  it('stores only an HMAC of the token, never the token', async () => {
    const { raw, tokens } = store();
    const { token } = await tokens.create({ policies: ['a'] });
    assert.match(token, /^hvs\./);
    assert.equal((await dump(raw)).includes(token), false);
    assert.equal((await dump(raw)).includes(token.slice(4)), false);
  });

  it('looks tokens up until they expire', async () => {
    const { tokens, advance } = store();
    const { token, entry } = await tokens.create({ policies: ['a'], ttl: 60 });
    assert.equal((await tokens.lookup(token))?.accessor, entry.accessor);
    advance(59);
    assert.ok(await tokens.lookup(token), 'still valid (served from the cache)');
    advance(2);
    assert.equal(await tokens.lookup(token), undefined, 'expired, even though it was cached');
    assert.equal(await tokens.lookupAccessor(entry.accessor), undefined, 'expired tokens are revoked');
  });

  it('forgets a cached token as soon as it is revoked, with its children', async () => {
    const { tokens } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 3600 });
    const child = await tokens.create({ policies: ['c'], ttl: 3600, parent: parent.entry });
    assert.ok(await tokens.lookup(parent.token));
    assert.ok(await tokens.lookup(child.token));
    await tokens.revoke(parent.entry);
    assert.equal(await tokens.lookup(parent.token), undefined);
    assert.equal(await tokens.lookup(child.token), undefined);
  });

  it('keeps children alive as orphans with revoke-orphan', async () => {
    const { tokens } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 3600 });
    const child = await tokens.create({ policies: ['c'], ttl: 3600, parent: parent.entry });
    await tokens.lookup(child.token);
    await tokens.revokeOrphan(parent.entry);
    assert.equal(await tokens.lookup(parent.token), undefined);
    const c = await tokens.lookup(child.token);
    assert.equal(c?.orphan, true);
    assert.equal(c?.parent, '');
  });

  it('never lets a child outlive its parent', async () => {
    const { tokens } = store();
    const parent = await tokens.create({ policies: ['p'], ttl: 60 });
    const child = await tokens.create({ policies: ['c'], ttl: 3600, parent: parent.entry });
    assert.equal(child.entry.expireAt, parent.entry.expireAt);
  });

  it('spends limited uses before the request and revokes after the last one', async () => {
    const { tokens } = store();
    const { token } = await tokens.create({ policies: ['a'], numUses: 2 });
    const e1 = await tokens.consume((await tokens.lookup(token))!);
    assert.equal(e1.numUses, 1);
    await tokens.release(e1);
    const e2 = await tokens.consume((await tokens.lookup(token))!);
    assert.equal(e2.pendingRevocation, true);
    assert.equal(await tokens.lookup(token), undefined, 'a spent token serves no new request');
    assert.ok(await tokens.lookupAccessor(e2.accessor, true), 'the request holding the last use still sees its token');
    await tokens.release(e2);
    assert.equal(await tokens.lookupAccessor(e2.accessor, true), undefined, 'revoked once that request is done');
  });

  it('renews within the explicit max TTL and serves the renewed entry', async () => {
    const { tokens, advance } = store();
    const { token, entry } = await tokens.create({ policies: ['a'], ttl: 60, explicitMaxTtl: 100 });
    await tokens.lookup(token);
    advance(50);
    const r = await tokens.renew(entry, 3600);
    assert.equal(r.entry.ttl, 50, 'capped by explicit_max_ttl');
    assert.equal(r.capped, true);
    advance(40);
    assert.ok(await tokens.lookup(token));
    advance(11);
    assert.equal(await tokens.lookup(token), undefined);
  });

  it('rejects junk token strings without touching storage', async () => {
    const { tokens } = store();
    assert.equal(await tokens.lookup(''), undefined);
    assert.equal(await tokens.lookup('x'.repeat(600)), undefined);
    assert.equal(await tokens.lookupAccessor('../etc'), undefined);
  });
});
