import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isArcaError } from '../../errors/index.ts';
import { type CommitOps, InmemStorage, type Storage } from '../../storage/index.ts';
import { allKeys, kit } from './test-kit.ts';

/** Inmem storage whose every call yields to the event loop for a random moment, so writers interleave. */
class JitteryStorage extends InmemStorage implements Storage {
  async #jitter(): Promise<void> {
    await sleep(Math.random() * 3);
  }
  override async get(key: string) {
    await this.#jitter();
    return super.get(key);
  }
  override async put(key: string, value: Uint8Array) {
    await this.#jitter();
    return super.put(key, value);
  }
  override async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined) {
    await this.#jitter();
    return super.putIf(key, value, expected);
  }
  override async commit(ops: CommitOps) {
    await this.#jitter();
    return super.commit(ops);
  }
}

/** Counts the write calls that reach storage. */
class CountingStorage extends InmemStorage implements Storage {
  readonly calls: string[] = [];
  override async put(key: string, value: Uint8Array) {
    this.calls.push('put');
    return super.put(key, value);
  }
  override async delete(key: string) {
    this.calls.push('delete');
    return super.delete(key);
  }
  override async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined) {
    this.calls.push('putIf');
    return super.putIf(key, value, expected);
  }
  override async commit(ops: CommitOps) {
    this.calls.push('commit');
    return super.commit(ops);
  }
}

describe('kv concurrency', () => {
  it('lands a write, with its trimmed versions, as one storage commit', async () => {
    const s = new CountingStorage();
    const k = kit(s);
    await k.call('update', 'metadata/one', { max_versions: 2 });
    for (let i = 0; i < 3; i++) await k.data('update', 'data/one', { data: { i } });
    s.calls.length = 0;
    await k.data('update', 'data/one', { data: { i: 3 } });
    assert.deepEqual(s.calls, ['commit']);
    assert.equal((await allKeys(k.storage, 'versions/')).length, 2, 'the trimmed version went in the same commit');
    s.calls.length = 0;
    await k.call('delete', 'metadata/one');
    assert.deepEqual(s.calls, ['commit']);
    assert.deepEqual(await allKeys(k.storage), []);
  });

  it('lets exactly one of two writers with the same cas win', async () => {
    for (let round = 0; round < 10; round++) {
      const k = kit(new JitteryStorage());
      await k.data('update', 'data/race', { data: { who: 'seed' } });
      const results = await Promise.allSettled(
        ['a', 'b'].map((who) => k.call('update', 'data/race', { data: { who }, options: { cas: 1 } })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.ok(isArcaError(lost[0]!.status === 'rejected' ? lost[0]!.reason : undefined, 'ERR_INVALID_REQUEST'));
      const cur = await k.data('read', 'data/race');
      assert.equal((cur['metadata'] as { version: number }).version, 2);
      const winner = won[0]!.status === 'fulfilled' ? won[0]!.value : undefined;
      assert.equal(winner?.data?.['version'], 2);
      // The loser never wrote its version record: only the seed and the winner remain.
      assert.equal((await allKeys(k.storage, 'versions/')).length, 2);
    }
  });

  it('lands 20 concurrent writers without cas as 20 distinct versions', async () => {
    const k = kit(new JitteryStorage());
    await k.call('update', 'metadata/many', { max_versions: 50 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => k.data('update', 'data/many', { data: { writer: i } })),
    );
    const versions = results.map((r) => r['version'] as number).sort((a, b) => a - b);
    assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 1));
    const seen = new Set<number>();
    for (let v = 1; v <= 20; v++) {
      const r = await k.data('read', 'data/many', { version: v });
      seen.add((r['data'] as { writer: number }).writer);
    }
    assert.equal(seen.size, 20);
    assert.equal((await allKeys(k.storage, 'versions/')).length, 20);
  });

  it('does not lose a soft-delete racing with writes', async () => {
    const k = kit(new JitteryStorage());
    for (let i = 0; i < 3; i++) await k.data('update', 'data/mix', { data: { i } });
    await Promise.all([
      k.call('update', 'delete/mix', { versions: [1] }),
      k.call('update', 'destroy/mix', { versions: [2] }),
      k.data('update', 'data/mix', { data: { i: 3 } }),
      k.call('patch', 'data/mix', { data: { p: true } }),
    ]);
    const m = await k.data('read', 'metadata/mix');
    const v = m['versions'] as Record<string, { deletion_time: string; destroyed: boolean }>;
    assert.notEqual(v['1']?.deletion_time, '');
    assert.equal(v['2']?.destroyed, true);
    assert.equal(m['current_version'], 5);
  });
});
