/**
 * The physical storage contract, deliberately tiny (after Vault's physical.Backend).
 * Storage is untrusted: it only ever sees barrier ciphertext (plus the few seal records that must be
 * readable before unseal). It knows nothing of encryption or HTTP.
 *
 * Keys are '/'-separated UTF-8 strings without a leading '/'. A missing key is `undefined`, never an error.
 */
export interface Storage {
  get(key: string): Promise<Uint8Array | undefined>;
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
  close(): Promise<void>;
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
