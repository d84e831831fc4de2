import type { CommitOps, ReadOptions, Storage } from './storage.ts';

/** A `..` segment anywhere in a key. */
const DOT_DOT_SEGMENT = /(^|\/)\.\.(\/|$)/;

/**
 * A Storage confined to a key prefix (after Vault's BarrierView): an engine mounted at `secret/`
 * gets a view of `logical/<mount-uuid>/` and cannot name keys outside it.
 */
export class StorageView implements Storage {
  readonly #inner: Storage;
  readonly #prefix: string;

  constructor(inner: Storage, prefix: string) {
    if (prefix !== '' && !prefix.endsWith('/')) throw new TypeError('view prefix must end with "/"');
    this.#inner = inner;
    this.#prefix = prefix;
  }

  #k(key: string): string {
    // Same rule as "a leading '/' or any '..' segment", without splitting the key on every get.
    if (key.startsWith('/') || (key.includes('..') && DOT_DOT_SEGMENT.test(key))) throw new TypeError('invalid key in view');
    return this.#prefix + key;
  }

  get(key: string, opts?: ReadOptions) {
    return this.#inner.get(this.#k(key), opts);
  }
  put(key: string, value: Uint8Array) {
    return this.#inner.put(this.#k(key), value);
  }
  delete(key: string) {
    return this.#inner.delete(this.#k(key));
  }
  list(prefix: string) {
    return this.#inner.list(this.#prefix + prefix);
  }
  putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined) {
    return this.#inner.putIf(this.#k(key), value, expected);
  }
  async commit(ops: CommitOps): Promise<boolean> {
    return this.#inner.commit({
      puts: ops.puts?.map(([k, v]) => [this.#k(k), v] as const),
      deletes: ops.deletes?.map((k) => this.#k(k)),
      expect: ops.expect?.map(([k, v]) => [this.#k(k), v] as const),
      durability: ops.durability,
    });
  }
  /** A view of a sub-prefix. */
  sub(prefix: string): StorageView {
    return new StorageView(this.#inner, this.#prefix + prefix);
  }
  async close(): Promise<void> {
    // A view does not own its inner storage.
  }
}
