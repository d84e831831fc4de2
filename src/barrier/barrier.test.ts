import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomKey, utf8 } from '../crypto/index.ts';
import { exerciseStorage } from '../storage/conformance.ts';
import { InmemStorage } from '../storage/index.ts';
import { Barrier } from './barrier.ts';

/** In-memory storage that counts the reads of each key (what reached storage past the cache). */
class CountingGets extends InmemStorage {
  readonly #gets = new Map<string, number>();
  override get(key: string) {
    this.#gets.set(key, (this.#gets.get(key) ?? 0) + 1);
    return super.get(key);
  }
  count(key: string): number {
    return this.#gets.get(key) ?? 0;
  }
}

async function unsealed(raw = new InmemStorage(), root = randomKey()) {
  const b = new Barrier(raw);
  await b.initialize(root);
  await b.unseal(root);
  return { b, raw, root };
}

exerciseStorage('barrier over inmem', async () => (await unsealed()).b, { physical: false });

describe('barrier', () => {
  it('stores no plaintext in the underlying storage', async () => {
    const { b, raw } = await unsealed();
    await b.put('logical/x/secret', utf8('MARKER-plaintext-123'));
    const stored = await raw.get('logical/x/secret');
    assert.ok(stored);
    assert.equal(Buffer.from(stored).includes('MARKER-plaintext-123'), false);
  });

  it('rejects a value moved to another path', async () => {
    const { b, raw } = await unsealed();
    await b.put('a/one', utf8('v'));
    await raw.put('a/two', (await raw.get('a/one'))!);
    await assert.rejects(b.get('a/two'), { code: 'ERR_BARRIER_DECRYPT' });
  });

  it('rejects a flipped bit anywhere in a value', async () => {
    const { b, raw } = await unsealed();
    await b.put('k', utf8('value'));
    const v = (await raw.get('k'))!;
    for (let i = 0; i < v.length; i++) {
      const bad = new Uint8Array(v);
      bad[i]! ^= 0x01;
      await raw.put('k', bad);
      await assert.rejects(b.get('k'), { code: 'ERR_BARRIER_DECRYPT' }, `byte ${i}`);
    }
  });

  it('keeps reading old terms after rotation and writes with the new one', async () => {
    const { b, raw, root } = await unsealed();
    await b.put('old', utf8('before'));
    const { term } = await b.rotate();
    assert.equal(term, 2);
    await b.put('new', utf8('after'));
    const stored = (await raw.get('new'))!;
    assert.equal(new DataView(stored.buffer, stored.byteOffset).getUint32(1), 2);
    // A fresh barrier over the same storage reads both after unsealing with the same root key.
    const b2 = new Barrier(raw);
    await b2.unseal(root);
    assert.equal(new TextDecoder().decode(await b2.get('old')), 'before');
    assert.equal(new TextDecoder().decode(await b2.get('new')), 'after');
  });

  it('stays unsealed and serving while it reloads the keyring, and picks up a rotation', async () => {
    const raw = new InmemStorage();
    const root = randomKey();
    const { b } = await unsealed(raw, root);
    await b.put('a', utf8('1'));
    // Another replica (same storage, same root key) rotates.
    const other = new Barrier(raw);
    await other.unseal(root);
    const { term } = await other.rotate();
    const reload = b.reloadKeyring();
    // While the reload waits for storage, the barrier must not look sealed.
    assert.equal(b.sealed, false);
    const during = await b.get('a');
    await reload;
    assert.equal(Buffer.from(during!).toString(), '1');
    assert.equal(b.keyStatus().term, term);
  });

  it('refuses every operation while sealed', async () => {
    const { b } = await unsealed();
    b.seal();
    await assert.rejects(b.get('x'), { code: 'ERR_BARRIER_SEALED' });
    await assert.rejects(b.put('x', utf8('y')), { code: 'ERR_BARRIER_SEALED' });
    await assert.rejects(b.list(''), { code: 'ERR_BARRIER_SEALED' });
  });

  it('fails to unseal with the wrong root key', async () => {
    const { raw } = await unsealed();
    const b = new Barrier(raw);
    await assert.rejects(b.unseal(randomKey()), { code: 'ERR_BARRIER_DECRYPT' });
    assert.equal(b.sealed, true);
  });

  it('keeps core/ out of reach of callers', async () => {
    const { b } = await unsealed();
    await assert.rejects(b.put('core/keyring', utf8('x')), { code: 'ERR_INTERNAL' });
    assert.deepEqual(await b.list(''), []);
  });

  it('commit encrypts each put under its own path and compares expectations on plaintext', async () => {
    const { b, raw } = await unsealed();
    await b.put('m', utf8('v1'));
    const before = (await raw.get('m'))!;
    // Re-putting the same plaintext gives new ciphertext; the expectation is still on 'v1'.
    await b.put('m', utf8('v1'));
    assert.notEqual(Buffer.compare(before, (await raw.get('m'))!), 0);
    assert.equal(await b.commit({ puts: [['a/x', utf8('X')], ['m', utf8('v2')]], expect: [['m', utf8('nope')]] }), false);
    assert.equal(await raw.get('a/x'), undefined);
    assert.equal(await b.commit({ puts: [['a/x', utf8('MARKER-commit')], ['m', utf8('v2')]], expect: [['m', utf8('v1')]] }), true);
    assert.equal(Buffer.from((await raw.get('a/x'))!).includes('MARKER-commit'), false);
    assert.equal(new TextDecoder().decode(await b.get('a/x')), 'MARKER-commit');
    await raw.put('a/y', (await raw.get('a/x'))!);
    await assert.rejects(b.get('a/y'), { code: 'ERR_BARRIER_DECRYPT' });
  });

  it("keeps what it decrypts for later reads, except a one-off (uncached) read's", async () => {
    const raw = new CountingGets();
    const { b } = await unsealed(raw);
    await b.put('hot', utf8('h'));
    await b.put('cold', utf8('c'));
    assert.equal(new TextDecoder().decode(await b.get('hot')), 'h');
    assert.equal(new TextDecoder().decode(await b.get('hot')), 'h');
    assert.equal(raw.count('hot'), 1, 'the second read is served from the cache');
    assert.equal(new TextDecoder().decode(await b.get('cold', { uncached: true })), 'c');
    assert.equal(new TextDecoder().decode(await b.get('cold', { uncached: true })), 'c');
    assert.equal(raw.count('cold'), 2, 'an uncached read does not keep what it fetched');
    await b.get('cold');
    await b.get('cold', { uncached: true });
    assert.equal(raw.count('cold'), 3, 'an uncached read is still served a cached value');
  });

  it('commit keeps core/ out of reach and refuses while sealed', async () => {
    const { b } = await unsealed();
    await assert.rejects(b.commit({ deletes: ['core/keyring'] }), { code: 'ERR_INTERNAL' });
    await assert.rejects(b.commit({ expect: [['core/keyring', undefined]] }), { code: 'ERR_INTERNAL' });
    b.seal();
    await assert.rejects(b.commit({ puts: [['x', utf8('y')]] }), { code: 'ERR_BARRIER_SEALED' });
  });
});
