/**
 * The expiry sweep (src/core/expiry-sweep.ts) against the least a sweep must do, in the same run and
 * on the same SQLite file behind a real barrier (in-process: the sweep is a background job, not an
 * HTTP route):
 *  - `tokens.sweep.idle`: a sweep that finds nothing expired, per stored token, against a bare scan
 *    that lists `id/` and reads every entry through the barrier (one list, one decrypt per token);
 *  - `tokens.sweep.revoke`: a sweep that revokes every token, per token, against deleting the same
 *    number of entry + accessor pairs with one durable commit each (what a revocation must write).
 * The barrier's read cache is cleared before every timed run, so neither side reads from memory what
 * the other read before it. Ratios are baseline time / sweep time (1 = no overhead); no goal: the
 * figures back the cost stated in docs/architecture.md ("Expiry sweep").
 */
import { join } from 'node:path';
import { Barrier } from '../src/barrier/index.ts';
import { TokenStore } from '../src/core/index.ts';
import { randomKey } from '../src/crypto/index.ts';
import { SqliteStorage, StorageView } from '../src/storage/index.ts';
import { tempDir } from '../test/harness/index.ts';
import { comparePairs } from './lib/report.ts';

const TOKENS = 3000;

export default async function sweepBench(): Promise<void> {
  const dir = await tempDir('arca-sweep-bench-');
  const raw = SqliteStorage.open(join(dir.path, 'sweep.db'));
  const barrier = new Barrier(raw);
  const root = randomKey();
  await barrier.initialize(root);
  await barrier.unseal(root);
  let now = Date.now();
  const view = new StorageView(barrier, 'sys/token/');
  const tokens = new TokenStore(view, () => now);
  const fill = async (n: number) => {
    for (let i = 0; i < n; i++) await tokens.create({ policies: ['default'], ttl: 600, noParent: true, relaxed: true });
  };
  const timed = async (fn: () => Promise<unknown>) => {
    barrier.clearCache();
    const t = performance.now();
    await fn();
    return ((performance.now() - t) * 1000) / TOKENS;
  };
  try {
    await fill(TOKENS);
    await comparePairs({
      name: 'tokens.sweep.idle',
      unit: 'µs/stored token',
      baseline: 'list id/ + one barrier read per token',
      higherIsBetter: false,
      pair: async () => {
        const baselineValue = await timed(async () => {
          for (const id of await view.list('id/')) await view.get(`id/${id}`);
        });
        const value = await timed(async () => {
          const r = await tokens.sweepExpired();
          if (r.revoked !== 0 || r.scanned !== TOKENS) throw new Error(`idle sweep revoked ${r.revoked} of ${r.scanned}`);
        });
        return { value, baselineValue };
      },
    });
    await comparePairs({
      name: 'tokens.sweep.revoke',
      unit: 'µs/revoked token',
      baseline: 'one durable 2-key delete commit per token',
      higherIsBetter: false,
      pair: async (round) => {
        // The baseline deletes pairs of keys of the same shape, outside the token store's prefixes.
        const scratch = new StorageView(barrier, `bench/scratch-${round}/`);
        for (let i = 0; i < TOKENS; i++) await scratch.commit({ puts: [[`id/${i}`, new Uint8Array(300)], [`accessor/${i}`, new Uint8Array(64)]], durability: 'relaxed' });
        const baselineValue = await timed(async () => {
          for (let i = 0; i < TOKENS; i++) await scratch.commit({ deletes: [`accessor/${i}`, `id/${i}`] });
        });
        now += 601_000;
        const value = await timed(async () => {
          const r = await tokens.sweepExpired();
          if (r.revoked !== TOKENS) throw new Error(`the sweep revoked ${r.revoked} of ${TOKENS}`);
        });
        await fill(TOKENS); // the next round's tokens
        return { value, baselineValue };
      },
    });
  } finally {
    await barrier.close();
    await raw.close();
    await dir.remove();
  }
}
