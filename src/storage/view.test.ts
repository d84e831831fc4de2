import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exerciseStorage } from './conformance.ts';
import { InmemStorage } from './inmem.ts';
import { StorageView } from './view.ts';

exerciseStorage('view over inmem', async () => new StorageView(new InmemStorage(), 'mount/'), { physical: false });

describe('StorageView', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('prefixes every key of a commit and cannot reach outside its prefix', async () => {
    const inner = new InmemStorage();
    await inner.put('outside', enc('o'));
    await inner.put('mount/old', enc('x'));
    const v = new StorageView(inner, 'mount/');
    assert.equal(await v.commit({ puts: [['a', enc('A')]], deletes: ['old'], expect: [['outside', undefined]] }), true);
    assert.deepEqual(await inner.list(''), ['mount/', 'outside']);
    assert.deepEqual(await inner.list('mount/'), ['a']);
    await assert.rejects(v.commit({ deletes: ['../outside'] }), TypeError);
    await assert.rejects(v.commit({ expect: [['/outside', undefined]] }), TypeError);
    assert.equal(new TextDecoder().decode(await inner.get('outside')), 'o');
  });

  it("refuses exactly the keys with a leading '/' or a '..' segment", () => {
    const v = new StorageView(new InmemStorage(), 'mount/');
    const keys = ['a', 'a/b', '..', '../x', 'x/..', 'x/../y', '...', 'a..b', 'x/..y', '..x/y', 'x/...', '/a', 'a//b', '.', './a', 'a/./b', ''];
    for (const k of keys) {
      const bad = k.startsWith('/') || k.split('/').some((p) => p === '..');
      let threw = false;
      try {
        void v.get(k);
      } catch (e) {
        threw = e instanceof TypeError;
      }
      assert.equal(threw, bad, k);
    }
  });
});
