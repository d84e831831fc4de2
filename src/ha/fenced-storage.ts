import { ArcaError } from '../errors/index.ts';
import type { CommitOps, ReadOptions, Storage } from '../storage/storage.ts';
import { FENCED_SQLSTATE } from './lease.ts';

function fenced(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === FENCED_SQLSTATE) return true;
  }
  return false;
}

/**
 * Turns the database fence's refusal into ERR_HA_LEASE_LOST and tells the HA manager at once,
 * so a replica that lost its lease steps down on its first refused write.
 */
export class FencedStorage implements Storage {
  readonly #inner: Storage;
  readonly #onFenced: () => void;

  constructor(inner: Storage, onFenced: () => void) {
    this.#inner = inner;
    this.#onFenced = onFenced;
  }

  async #w<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (!fenced(err)) throw err;
      this.#onFenced();
      throw new ArcaError('ERR_HA_LEASE_LOST', 'this replica is no longer the active one; retry the request (it will be forwarded to the new active)', { cause: err });
    }
  }

  get(key: string, opts?: ReadOptions) {
    return this.#inner.get(key, opts);
  }
  list(prefix: string) {
    return this.#inner.list(prefix);
  }
  put(key: string, value: Uint8Array) {
    return this.#w(this.#inner.put(key, value));
  }
  delete(key: string) {
    return this.#w(this.#inner.delete(key));
  }
  putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined) {
    return this.#w(this.#inner.putIf(key, value, expected));
  }
  commit(ops: CommitOps) {
    return this.#w(this.#inner.commit(ops));
  }
  snapshot() {
    if (!this.#inner.snapshot) throw new ArcaError('ERR_INTERNAL', 'this storage backend takes no snapshots', { expose: false });
    return this.#inner.snapshot();
  }
  close() {
    return this.#inner.close();
  }
}
