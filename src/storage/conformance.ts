/**
 * The storage conformance suite. Every Storage implementation runs it against a real instance:
 *   exerciseStorage('sqlite', () => new SqliteStorage(...))
 * The factory must return an empty store each call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Storage } from './storage.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
/** Byte equality that does not care whether an implementation returns a Buffer or a plain Uint8Array. */
function assertBytes(actual: Uint8Array | undefined, expected: Uint8Array, msg?: string): void {
  assert.ok(actual instanceof Uint8Array, msg ?? 'expected bytes, got undefined');
  assert.ok(Buffer.compare(actual, expected) === 0, msg ?? `bytes differ (length ${actual.length} vs ${expected.length})`);
}

export function exerciseStorage(name: string, open: () => Promise<Storage>, o: { physical?: boolean } = { physical: true }): void {
  describe(`storage conformance: ${name}`, () => {
    async function withStore(fn: (s: Storage) => Promise<void>): Promise<void> {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    }

    it('returns undefined for a missing key', () =>
      withStore(async (s) => {
        assert.equal(await s.get('nope'), undefined);
      }));

    it('reads back what it wrote, byte for byte', () =>
      withStore(async (s) => {
        const bin = new Uint8Array(256).map((_, i) => i);
        await s.put('a/bin', bin);
        assertBytes(await s.get('a/bin'), bin);
        await s.put('a/empty', new Uint8Array(0));
        assertBytes(await s.get('a/empty'), new Uint8Array(0));
      }));

    it('overwrites an existing key', () =>
      withStore(async (s) => {
        await s.put('k', enc('one'));
        await s.put('k', enc('two'));
        assert.equal(dec(await s.get('k')), 'two');
      }));

    it('does not let a caller mutate stored bytes through its buffers', () =>
      withStore(async (s) => {
        const v = enc('abc');
        await s.put('k', v);
        v[0] = 0x7a;
        const got = await s.get('k');
        assert.equal(dec(got), 'abc');
        got![1] = 0x7a;
        assert.equal(dec(await s.get('k')), 'abc');
      }));

    it('deletes, and deleting a missing key is fine', () =>
      withStore(async (s) => {
        await s.put('k', enc('v'));
        await s.delete('k');
        assert.equal(await s.get('k'), undefined);
        await s.delete('k');
        await s.delete('never/was');
      }));

    it('lists immediate children with folders once, sorted', () =>
      withStore(async (s) => {
        for (const k of ['p/b', 'p/a', 'p/dir/x', 'p/dir/y/z', 'p/c/', 'q/a', 'pp/a']) await s.put(k, enc(k));
        assert.deepEqual(await s.list('p/'), ['a', 'b', 'c/', 'dir/']);
        assert.deepEqual(await s.list('p/dir/'), ['x', 'y/']);
        assert.deepEqual(await s.list(''), ['p/', 'pp/', 'q/']);
        assert.deepEqual(await s.list('none/'), []);
      }));

    it('treats LIKE/GLOB metacharacters in prefixes literally', () =>
      withStore(async (s) => {
        await s.put('a%b/x', enc('1'));
        await s.put('a_b/y', enc('2'));
        await s.put('aXb/z', enc('3'));
        await s.put('a*b/w', enc('4'));
        assert.deepEqual(await s.list('a%b/'), ['x']);
        assert.deepEqual(await s.list('a_b/'), ['y']);
        assert.deepEqual(await s.list('a*b/'), ['w']);
      }));

    it('handles non-ASCII keys', () =>
      withStore(async (s) => {
        await s.put('ü/clé', enc('v'));
        assert.equal(dec(await s.get('ü/clé')), 'v');
        assert.deepEqual(await s.list('ü/'), ['clé']);
      }));

    it('putIf creates only when absent', () =>
      withStore(async (s) => {
        assert.equal(await s.putIf('c', enc('1'), undefined), true);
        assert.equal(await s.putIf('c', enc('2'), undefined), false);
        assert.equal(dec(await s.get('c')), '1');
      }));

    it('putIf replaces only the expected value', () =>
      withStore(async (s) => {
        await s.put('c', enc('1'));
        assert.equal(await s.putIf('c', enc('2'), enc('x')), false);
        assert.equal(await s.putIf('c', enc('2'), enc('1')), true);
        assert.equal(dec(await s.get('c')), '2');
        assert.equal(await s.putIf('gone', enc('2'), enc('1')), false);
        assert.equal(await s.get('gone'), undefined);
      }));

    it('lets exactly one of many concurrent putIf calls win', () =>
      withStore(async (s) => {
        await s.put('race', enc('0'));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => s.putIf('race', enc(`w${i}`), enc('0'))),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(dec(await s.get('race')), `w${winner}`);
      }));

    it('commit applies puts and deletes together', () =>
      withStore(async (s) => {
        await s.put('m/old', enc('old'));
        await s.put('m/keep', enc('keep'));
        assert.equal(await s.commit({ puts: [['m/a', enc('A')], ['m/b', enc('B')]], deletes: ['m/old', 'm/never'] }), true);
        assert.deepEqual(await s.list('m/'), ['a', 'b', 'keep']);
        assert.equal(dec(await s.get('m/a')), 'A');
        assert.equal(dec(await s.get('m/b')), 'B');
      }));

    it('commit writes nothing when any expectation fails', () =>
      withStore(async (s) => {
        await s.put('t/meta', enc('v1'));
        await s.put('t/victim', enc('still here'));
        const attempt = (expect: [string, Uint8Array | undefined][]) =>
          s.commit({ puts: [['t/new', enc('n')], ['t/meta', enc('v2')]], deletes: ['t/victim'], expect });
        assert.equal(await attempt([['t/meta', enc('v0')]]), false, 'wrong value');
        assert.equal(await attempt([['t/meta', undefined]]), false, 'expected absent, is present');
        assert.equal(await attempt([['t/missing', enc('x')]]), false, 'expected present, is absent');
        assert.equal(await attempt([['t/meta', enc('v1')], ['t/other', enc('x')]]), false, 'one of two fails');
        assert.deepEqual(await s.list('t/'), ['meta', 'victim']);
        assert.equal(dec(await s.get('t/meta')), 'v1');
        assert.equal(dec(await s.get('t/victim')), 'still here');
      }));

    it('commit applies everything when every expectation holds', () =>
      withStore(async (s) => {
        await s.put('t/meta', enc('v1'));
        await s.put('t/guard', enc('g'));
        await s.put('t/victim', enc('x'));
        const ok = await s.commit({
          puts: [['t/new', enc('n')], ['t/meta', enc('v2')], ['t/fresh', enc('f')]],
          deletes: ['t/victim'],
          expect: [['t/meta', enc('v1')], ['t/guard', enc('g')], ['t/fresh', undefined], ['t/nothing', undefined]],
        });
        assert.equal(ok, true);
        assert.deepEqual(await s.list('t/'), ['fresh', 'guard', 'meta', 'new']);
        assert.equal(dec(await s.get('t/meta')), 'v2');
        assert.equal(await s.get('t/nothing'), undefined, 'an expected-absent key that is not written stays absent');
      }));

    it('snapshots every entry in key order, byte for byte, as copies', () =>
      withStore(async (s) => {
        if (!o.physical) {
          assert.equal(s.snapshot, undefined, 'a view over a backend offers no snapshot');
          return;
        }
        assert.ok(s.snapshot, 'a physical backend takes snapshots');
        const bytes = new Uint8Array([0, 255, 1, 128]);
        await s.commit({ puts: [['snap/b', enc('B')], ['snap/a/x', bytes], ['snap/é', enc('E')], ['snap/Z', enc('Z')]] });
        const snap = await s.snapshot();
        const mine = snap.filter(([k]) => k.startsWith('snap/'));
        assert.deepEqual(mine.map(([k]) => k), ['snap/Z', 'snap/a/x', 'snap/b', 'snap/é']);
        assert.deepEqual(mine[1]![1], bytes);
        mine[1]![1][0] = 9;
        assert.deepEqual(await s.get('snap/a/x'), bytes, 'the snapshot holds copies');
      }));

    it('an empty commit succeeds and writes nothing', () =>
      withStore(async (s) => {
        assert.equal(await s.commit({}), true);
        assert.equal(await s.commit({ puts: [], deletes: [], expect: [] }), true);
        assert.deepEqual(await s.list(''), []);
      }));

    it('rejects a commit that writes one key twice', () =>
      withStore(async (s) => {
        await assert.rejects(s.commit({ puts: [['d', enc('1')]], deletes: ['d'] }), TypeError);
        await assert.rejects(s.commit({ puts: [['d', enc('1')], ['d', enc('2')]] }), TypeError);
        assert.equal(await s.get('d'), undefined);
      }));

    it('lets exactly one of many concurrent commits with the same expectation win', () =>
      withStore(async (s) => {
        await s.put('cas/meta', enc('0'));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            s.commit({ puts: [[`cas/rec-${i}`, enc(`r${i}`)], ['cas/meta', enc(`w${i}`)]], expect: [['cas/meta', enc('0')]] }),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(dec(await s.get('cas/meta')), `w${winner}`);
        assert.deepEqual(await s.list('cas/'), ['meta', `rec-${winner}`], 'losers wrote nothing');
      }));

    it('lets exactly one of many concurrent commits expecting absence win', () =>
      withStore(async (s) => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            s.commit({ puts: [[`new/rec-${i}`, enc(`r${i}`)], ['new/meta', enc(`w${i}`)]], expect: [['new/meta', undefined]] }),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(dec(await s.get('new/meta')), `w${winner}`);
        assert.deepEqual(await s.list('new/'), ['meta', `rec-${winner}`]);
      }));

    it('a relaxed commit is read back at once and is still atomic and conditional', () =>
      withStore(async (s) => {
        await s.put('r/meta', enc('v1'));
        const relaxed = (expect: [string, Uint8Array | undefined][]) =>
          s.commit({ puts: [['r/a', enc('A')], ['r/meta', enc('v2')]], deletes: ['r/gone'], expect, durability: 'relaxed' });
        assert.equal(await relaxed([['r/meta', enc('v0')]]), false, 'a failed expectation still writes nothing');
        assert.deepEqual(await s.list('r/'), ['meta']);
        await s.put('r/gone', enc('x'));
        assert.equal(await relaxed([['r/meta', enc('v1')], ['r/a', undefined]]), true);
        assert.deepEqual(await s.list('r/'), ['a', 'meta']);
        assert.equal(dec(await s.get('r/meta')), 'v2');
        // A durable commit after a relaxed one is durable as before (the setting does not stick).
        assert.equal(await s.commit({ puts: [['r/after', enc('d')]] }), true);
        assert.equal(dec(await s.get('r/after')), 'd');
        await assert.rejects(s.commit({ puts: [['r/b', enc('B')]], durability: 'lazy' as 'relaxed' }), TypeError);
        assert.equal(await s.get('r/b'), undefined);
      }));

    it('keeps many concurrent writes', () =>
      withStore(async (s) => {
        await Promise.all(Array.from({ length: 200 }, (_, i) => s.put(`bulk/${i}`, enc(String(i)))));
        const keys = await s.list('bulk/');
        assert.equal(keys.length, 200);
        assert.equal(dec(await s.get('bulk/137')), '137');
      }));

    it('stores large values', () =>
      withStore(async (s) => {
        const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 17) & 0xff);
        await s.put('big', big);
        assertBytes(await s.get('big'), big);
      }));
  });
}
