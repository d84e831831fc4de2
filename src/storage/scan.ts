/**
 * Background scans over every key under a prefix (the expiry sweeps of tokens, wrapping tokens and
 * control-group requests). A scan gives the event loop a turn every `batch` keys, so requests keep
 * being served while it reads a large store.
 */
import type { Storage } from './storage.ts';

export const SCAN_BATCH = 256;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The keys directly under `prefix` (as `Storage.list` names them), with a turn of the event loop every `batch` keys. */
export async function* scanKeys(s: Storage, prefix: string, batch = SCAN_BATCH): AsyncGenerator<string> {
  let n = 0;
  for (const key of await s.list(prefix)) {
    if (++n % batch === 0) await nextTurn();
    yield key;
  }
}
