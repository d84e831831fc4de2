import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Barrier } from '../barrier/index.ts';
import { isArcaError } from '../errors/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { BATCH_MAX_CHARS, BATCH_PATH, openBatch, sealBatch } from './batch-tokens.ts';
import { type TokenEntry, TokenStore } from './tokens.ts';

const NOW_MS = 1_700_000_000_000;

async function barrier(): Promise<{ raw: InmemStorage; barrier: Barrier }> {
  const raw = new InmemStorage();
  const b = new Barrier(raw);
  const root = randomBytes(32);
  await b.initialize(root);
  await b.unseal(root);
  return { raw, barrier: b };
}

async function store() {
  let now = NOW_MS;
  const { raw, barrier: b } = await barrier();
  const live = new Set(['auth_kubernetes_1']);
  const tokens = new TokenStore(raw, () => now, undefined, { sealer: b, mountLive: (a) => live.has(a) });
  return { raw, barrier: b, tokens, live, advance: (s: number) => (now += s * 1000) };
}

const keyCount = async (raw: InmemStorage, prefix = '') => {
  let n = 0;
  for (const k of await raw.list(prefix)) n += k.endsWith('/') ? await keyCount(raw, prefix + k) : 1;
  return n;
};

const ENTRY: TokenEntry = {
  id: '', accessor: '', policies: ['app-read', 'default'], parent: '', displayName: 'kubernetes-payments-api',
  meta: { role: 'app', service_account_name: 'api', service_account_namespace: 'payments' }, createdAt: 1_700_000_000,
  expireAt: 1_700_000_600, ttl: 600, explicitMaxTtl: 0, period: 0, renewable: false, numUses: 0, path: 'auth/kubernetes/login',
  orphan: true, type: 'batch', entityId: 'e-1',
};

describe('batch tokens: the sealed entry', () => {
  it('opens to the entry it sealed, with no id, accessor, uses or period', async () => {
    const { barrier: b } = await barrier();
    const token = sealBatch(b, ENTRY);
    assert.match(token, /^hvb\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(openBatch(b, token), ENTRY);
    assert.equal(token.includes('payments'), false, 'the metadata is encrypted, not encoded');
  });

  it('refuses a tampered token, one from another barrier, and a barrier value stored at another path', async () => {
    const { barrier: b } = await barrier();
    const { barrier: other } = await barrier();
    const token = sealBatch(b, ENTRY);
    const body = Buffer.from(token.slice(4), 'base64url');
    body[body.length - 20]! ^= 1;
    assert.equal(openBatch(b, `hvb.${body.toString('base64url')}`), undefined);
    assert.equal(openBatch(other, token), undefined);
    const stored = Buffer.from(b.encrypt('sys/token/id/abc', new TextEncoder().encode(JSON.stringify({ v: 1, p: ['root'], n: 'x', m: {}, c: 1, e: 2e9, t: 1, x: 0, a: 'x' })))).toString('base64url');
    assert.equal(openBatch(b, `hvb.${stored}`), undefined, 'the AAD binds a batch token to its own path');
    const forged = Buffer.from(b.encrypt(BATCH_PATH, new TextEncoder().encode(JSON.stringify({ v: 1, p: ['x'], n: 'x', m: {}, c: 1, e: 0, t: 0, x: 0, a: 'x' })))).toString('base64url');
    assert.equal(openBatch(b, `hvb.${forged}`), undefined, 'a batch token always expires');
  });

  it('still opens after a barrier key rotation, and new tokens use the new key', async () => {
    const { barrier: b } = await barrier();
    const before = sealBatch(b, ENTRY);
    await b.rotate();
    assert.deepEqual(openBatch(b, before), ENTRY);
    const after = sealBatch(b, ENTRY);
    assert.notEqual(Buffer.from(after.slice(4), 'base64url').readUInt32BE(1), Buffer.from(before.slice(4), 'base64url').readUInt32BE(1));
  });

  it('refuses to issue a token longer than the limit, without quoting the metadata', async () => {
    const { barrier: b } = await barrier();
    assert.throws(
      () => sealBatch(b, { ...ENTRY, meta: { big: 's3cr3t'.repeat(800) } }),
      (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && new RegExp(`more than ${BATCH_MAX_CHARS}`).test((e as Error).message) && !(e as Error).message.includes('s3cr3t'),
    );
  });

  it('never throws on arbitrary input', async () => {
    const { barrier: b } = await barrier();
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => openBatch(b, `hvb.${s}`) === undefined && openBatch(b, s) === undefined));
  });
});

describe('batch tokens: the token store', () => {
  it('issues a login token without writing anything, and serves it until it expires', async () => {
    const { raw, tokens, advance } = await store();
    const before = await keyCount(raw);
    const { token, entry } = await tokens.create({ policies: ['b', 'a'], ttl: 600, batch: true, meta: { pod_name: 'api-0' }, path: 'auth/kubernetes/login', entityId: 'e-9', relaxed: true });
    assert.equal(await keyCount(raw), before, 'no storage write');
    assert.equal(entry.type, 'batch');
    assert.equal(entry.accessor, '');
    assert.equal(entry.renewable, false);
    const got = await tokens.lookup(token);
    assert.deepEqual(got?.policies, ['a', 'b']);
    assert.equal(got?.entityId, 'e-9');
    assert.equal(got?.meta['pod_name'], 'api-0');
    advance(599);
    assert.ok(await tokens.lookup(token), 'still live a second before its expiry (a cached hit)');
    advance(1);
    assert.equal(await tokens.lookup(token), undefined, 'expired');
    assert.equal(tokens.cached(token), undefined);
  });

  it("follows Vault's rules: no uses, period, custom id, root policy or children; not renewable or revocable", async () => {
    const { tokens } = await store();
    const refused = async (p: Promise<unknown>, message: RegExp) => assert.rejects(p, (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && message.test((e as Error).message));
    await refused(tokens.create({ policies: ['a'], batch: true, numUses: 3 }), /batch tokens cannot have "num_uses" set/);
    await refused(tokens.create({ policies: ['a'], batch: true, period: 60 }), /batch tokens cannot have "period" set/);
    await refused(tokens.create({ policies: ['a'], batch: true, id: 'hvs.mine' }), /batch tokens cannot have "id" set/);
    await refused(tokens.create({ policies: ['root'], batch: true }), /batch tokens cannot be root tokens/);
    const { token } = await tokens.create({ policies: ['a'], batch: true, ttl: 60 });
    const e = (await tokens.lookup(token))!;
    await refused(tokens.create({ policies: ['a'], parent: e }), /batch tokens cannot create more tokens/);
    await refused(tokens.create({ policies: ['a'], parent: e, batch: true }), /batch tokens cannot create more tokens/);
    await refused(tokens.renew(e), /batch tokens cannot be renewed/);
    await refused(tokens.revoke(e), /batch tokens cannot be revoked/);
    await refused(tokens.revokeOrphan(e), /batch tokens cannot be revoked/);
    assert.ok(await tokens.lookup(token), 'the refusals changed nothing');
  });

  it('a child batch token ends with its parent: at its revocation, and never after its expiry', async () => {
    const { tokens, advance } = await store();
    const parent = await tokens.create({ policies: ['a'], ttl: 300 });
    const child = await tokens.create({ policies: ['a'], parent: parent.entry, batch: true, ttl: 3600 });
    assert.equal(child.entry.orphan, false);
    assert.equal(child.entry.expireAt, parent.entry.expireAt, 'capped at the parent');
    assert.ok(await tokens.lookup(child.token));
    await tokens.revoke(parent.entry);
    assert.equal(await tokens.lookup(child.token), undefined, 'gone with its parent, though a lookup had served it');
    const p2 = await tokens.create({ policies: ['a'], ttl: 300 });
    const c2 = await tokens.create({ policies: ['a'], parent: p2.entry, batch: true, ttl: 100 });
    advance(60);
    await tokens.renew((await tokens.lookup(p2.token))!, 10);
    assert.equal((await tokens.lookup(c2.token))?.expireAt, (await tokens.lookup(p2.token))?.expireAt, "a parent's shorter life cuts the child at once");
  });

  it('logs out what a disabled auth mount issued: stored tokens revoked, batch tokens no longer served', async () => {
    const { tokens, live } = await store();
    const login = (batch: boolean) => tokens.create({ policies: ['a'], ttl: 600, batch, path: 'auth/kubernetes/login', mountAccessor: 'auth_kubernetes_1' });
    const service = await login(false);
    const batch = await login(true);
    const other = await tokens.create({ policies: ['a'], ttl: 600, path: 'auth/kubernetes-2/login' });
    const child = await tokens.create({ policies: ['a'], parent: service.entry });
    for (const t of [service, batch, other, child]) assert.ok(await tokens.lookup(t.token), 'served (and cached) before');
    live.delete('auth_kubernetes_1');
    assert.equal(await tokens.revokeIssuedUnder('auth/kubernetes/'), 1, 'the login token (its child goes with it)');
    assert.equal(await tokens.lookup(service.token), undefined);
    assert.equal(await tokens.lookup(child.token), undefined);
    assert.equal(tokens.cached(batch.token), undefined, 'dropped from the cache');
    assert.equal(await tokens.lookup(batch.token), undefined, 'its mount accessor no longer resolves');
    assert.ok(await tokens.lookup(other.token), 'another mount (a longer path with the same start) is untouched');
    live.add('auth_kubernetes_1');
    assert.ok(await tokens.lookup(batch.token), 'the check is the accessor: a mount enabled again gets a new one');
  });

  it("keeps token_bound_cidrs in the token; a child inherits its parent's, an orphan does not", async () => {
    const { tokens } = await store();
    const b = await tokens.create({ policies: ['a'], ttl: 600, batch: true, boundCidrs: ['10.0.0.0/8'] });
    assert.deepEqual((await tokens.lookup(b.token))?.boundCidrs, ['10.0.0.0/8']);
    const parent = await tokens.create({ policies: ['a'], ttl: 600, boundCidrs: ['192.0.2.0/24'] });
    assert.deepEqual((await tokens.lookup(parent.token))?.boundCidrs, ['192.0.2.0/24'], 'stored with a service token');
    const child = await tokens.create({ policies: ['a'], parent: parent.entry, batch: true });
    assert.deepEqual((await tokens.lookup(child.token))?.boundCidrs, ['192.0.2.0/24']);
    const orphan = await tokens.create({ policies: ['a'], parent: parent.entry, noParent: true });
    assert.equal((await tokens.lookup(orphan.token))?.boundCidrs, undefined);
  });

  it('refuses a custom service-token id with the batch prefix (it could never be looked up)', async () => {
    const { tokens } = await store();
    await assert.rejects(tokens.create({ policies: ['root'], id: 'hvb.my-dev-root' }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /cannot start with "hvb\."/.test((e as Error).message));
    const { token } = await tokens.create({ policies: ['root'], id: 'hvs.my-dev-root' });
    assert.ok(await tokens.lookup(token));
  });

  it('refuses batch tokens when the store has no sealer, and ignores hvb. strings it did not seal', async () => {
    const t = new TokenStore(new InmemStorage());
    await assert.rejects(t.create({ policies: ['a'], batch: true }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST'));
    const { tokens } = await store();
    assert.equal(await tokens.lookup(`hvb.${'A'.repeat(100)}`), undefined);
    assert.equal(await tokens.lookup(`hvb.${'A'.repeat(BATCH_MAX_CHARS)}`), undefined);
  });
});
