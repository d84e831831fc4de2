import { bytesEqual, checkCommit, childrenOf, type CommitOps, compareCodeUnits, type Storage, validateKey } from './storage.ts';

/** In-memory storage for tests and throwaway dev servers. Copies on the way in and out. */
export class InmemStorage implements Storage {
  readonly #data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.#data.get(key);
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    this.#data.set(key, new Uint8Array(value));
  }

  async delete(key: string): Promise<void> {
    this.#data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return childrenOf(prefix, this.#data.keys());
  }

  async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    validateKey(key);
    if (!bytesEqual(this.#data.get(key), expected)) return false;
    this.#data.set(key, new Uint8Array(value));
    return true;
  }

  /** Checks and applies without yielding, so no other call can interleave. */
  async commit(ops: CommitOps): Promise<boolean> {
    const c = checkCommit(ops);
    for (const [key, expected] of c.expect) if (!bytesEqual(this.#data.get(key), expected)) return false;
    for (const [key, value] of c.puts) this.#data.set(key, new Uint8Array(value));
    for (const key of c.deletes) this.#data.delete(key);
    return true;
  }

  /** Copies, taken without yielding: one moment. */
  async snapshot(): Promise<[string, Uint8Array][]> {
    return [...this.#data].sort(([a], [b]) => compareCodeUnits(a, b)).map(([k, v]) => [k, new Uint8Array(v)]);
  }

  async close(): Promise<void> {}
}
