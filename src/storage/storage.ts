/**
 * The physical storage contract, deliberately tiny (after Vault's physical.Backend).
 * Storage is untrusted: it only ever sees barrier ciphertext (plus the few seal records that must be
 * readable before unseal). It knows nothing of encryption or HTTP.
 *
 * Keys are '/'-separated UTF-8 strings without a leading '/'. A missing key is `undefined`, never an error.
 */
/** How a read is meant. Backends without a cache ignore it. */
export interface ReadOptions {
  /**
   * A one-off read, e.g. one of a scan over every token: a caching layer (the barrier) serves a
   * cached value but does not keep what it had to fetch, so a scan never pushes hot entries out.
   */
  uncached?: boolean;
}

export interface Storage {
  get(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined>;
  /** Durable once the promise resolves: an acknowledged write survives `kill -9`. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Immediate children of `prefix` (which is '' or ends with '/'), as names relative to the prefix,
   * sorted by code unit. A child that has descendants is listed once with a trailing '/'.
   */
  list(prefix: string): Promise<string[]>;
  /**
   * Atomic compare-and-put: writes `value` only if the key currently holds exactly `expected`
   * (`undefined` = the key must be absent). Returns whether it wrote.
   */
  putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean>;
  /**
   * Atomic multi-key write: applies every put and delete, as one durable transaction, only if every
   * `expect` holds at that moment (`undefined` = the key must be absent); otherwise writes nothing and
   * returns false. An empty commit returns true. A key may appear at most once across `puts` and
   * `deletes`, and at most once in `expect` (expecting a key that is also written is the usual case).
   *
   * `durability: 'relaxed'` (see CommitOps) weakens only what survives a power loss or kernel crash
   * for this one commit; it is still atomic, still visible to every later read once the promise
   * resolves, and still survives `kill -9` of Arca where the backend allows (SQLite WAL, PostgreSQL).
   */
  commit(ops: CommitOps): Promise<boolean>;
  /**
   * Every entry, sorted by key (code units), as of one moment: one read transaction or statement, so
   * a concurrent commit is in it entirely or not at all. Physical backends only (what
   * `sys/storage/snapshot` saves); views over a backend (the barrier, a prefix) do not offer it.
   */
  snapshot?(): Promise<[string, Uint8Array][]>;
  close(): Promise<void>;
}

export interface CommitOps {
  puts?: readonly (readonly [key: string, value: Uint8Array])[] | undefined;
  deletes?: readonly string[] | undefined;
  expect?: readonly (readonly [key: string, expected: Uint8Array | undefined])[] | undefined;
  /**
   * Default (absent): durable on resolve, as `put`. `'relaxed'`: the backend may acknowledge before
   * its log reaches the disk (SQLite synchronous=NORMAL in WAL mode, PostgreSQL synchronous_commit=off),
   * so a power loss or OS crash may forget the last relaxed commits, never half of one, and never one
   * that a later durable commit depends on (both logs are sequential: a durable commit flushes every
   * earlier one). For writes whose loss is harmless by design only: today the token a login issues
   * (its holder logs in again). Never for revocations, use counts, keys or configuration.
   */
  durability?: 'relaxed' | undefined;
}

/** A commit's operations, validated (see Storage.commit), with absent lists as empty ones. */
export interface CheckedCommit {
  puts: readonly (readonly [string, Uint8Array])[];
  deletes: readonly string[];
  expect: readonly (readonly [string, Uint8Array | undefined])[];
  relaxed: boolean;
}

/** Validates a commit's keys; a duplicate key is a caller bug (TypeError), like an invalid key. */
export function checkCommit(ops: CommitOps): CheckedCommit {
  const puts = ops.puts ?? [];
  const deletes = ops.deletes ?? [];
  const expect = ops.expect ?? [];
  const written = new Set<string>();
  for (const key of [...puts.map(([k]) => k), ...deletes]) {
    validateKey(key);
    if (written.has(key)) throw new TypeError(`storage key ${JSON.stringify(key)} is written twice in one commit`);
    written.add(key);
  }
  const expected = new Set<string>();
  for (const [key] of expect) {
    validateKey(key);
    if (expected.has(key)) throw new TypeError(`storage key ${JSON.stringify(key)} is expected twice in one commit`);
    expected.add(key);
  }
  if (ops.durability !== undefined && ops.durability !== 'relaxed') throw new TypeError(`unknown commit durability ${JSON.stringify(ops.durability)}`);
  return { puts, deletes, expect, relaxed: ops.durability === 'relaxed' };
}

/** Splits the keys found under a prefix into Vault-style immediate children. Shared by implementations. */
export function childrenOf(prefix: string, keys: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix) || k.length === prefix.length) continue;
    const rest = k.slice(prefix.length);
    const slash = rest.indexOf('/');
    out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...out].sort(compareCodeUnits);
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}

/** The smallest string greater than every string starting with `prefix` (for range scans). */
export function prefixEnd(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

export function validateKey(key: string): void {
  if (key.length === 0 || key.startsWith('/') || key.includes('\0')) {
    throw new TypeError(`invalid storage key ${JSON.stringify(key)}`);
  }
}
