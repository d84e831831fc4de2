/**
 * Root-protected ("sudo") paths: besides the operation's capability, the deciding rule must grant `sudo`
 * (or the token must be root). Vault's `sys/` list (vault/logical_system.go PathsSpecial.Root), the token
 * store's (`revoke-orphan/*`, `accessors*`), `sys/capabilities` (reads another token's capabilities) and
 * `sys/audit-hash/*` (the reference groups it with the sudo-protected audit endpoints).
 * A trailing `*` is a raw prefix; a leading `**` segment matches below any mount; anything else must match exactly.
 */
export const DEFAULT_ROOT_PATHS: readonly string[] = Object.freeze([
  'sys/auth/*',
  'sys/remount',
  'sys/audit',
  'sys/audit/*',
  // Not in Vault's list, but an HMAC oracle lets a caller confirm guesses of secret values against the log.
  'sys/audit-hash/*',
  // Arca's: forces a signed checkpoint into every audit device.
  'sys/audit-checkpoint',
  // Arca's: reads an audit device's entries back (HMAC'd, but who did what is itself sensitive).
  'sys/audit-log',
  // Arca's: the whole store (barrier ciphertext and seal records) out, or replaced (Vault's raft snapshot paths are sudo too).
  'sys/storage/snapshot',
  'sys/raw',
  'sys/raw/*',
  'sys/rotate',
  'sys/rotate/*',
  'sys/seal',
  'sys/step-down',
  'sys/config/cors',
  'sys/config/auditing/*',
  'sys/plugins/catalog/*',
  'sys/revoke-prefix/*',
  'sys/revoke-force/*',
  'sys/leases/revoke-prefix/*',
  'sys/leases/revoke-force/*',
  'sys/leases/lookup/*',
  'sys/leases',
  'sys/internal/inspect/*',
  'sys/capabilities',
  // Arca's: the same question as sys/capabilities, by accessor.
  'sys/capabilities-accessor',
  'auth/token/revoke-orphan*',
  'auth/token/accessors*',
  // pki's sign-verbatim signs whatever names a CSR carries (Vault: the pki backend's Root paths). A pki
  // engine may be mounted anywhere, so `**/` matches at any mount; a same-named path of another engine
  // then also needs sudo, which over-protects but never under-protects.
  '**/sign-verbatim',
  '**/sign-verbatim/*',
]);

/** A pattern list split once into exact paths and raw prefixes (the per-call `slice` allocated on every request). */
interface CompiledRootPaths {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
  // From a `**/x` entry: a path ending in `/x` (below any mount).
  suffixes: readonly string[];
  // From a `**/x/*` entry: a path containing `/x/`.
  infixes: readonly string[];
}

/** Keyed by the pattern array itself: lists are built once (DEFAULT_ROOT_PATHS, an Acl's option). */
const compiled = new WeakMap<readonly string[], CompiledRootPaths>();

function compile(patterns: readonly string[]): CompiledRootPaths {
  let c = compiled.get(patterns);
  if (!c) {
    const anyMount = patterns.filter((p) => p.startsWith('**/')).map((p) => `/${p.slice(3)}`);
    const rooted = patterns.filter((p) => !p.startsWith('**/'));
    c = {
      exact: new Set(rooted.filter((p) => !p.endsWith('*'))),
      prefixes: rooted.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1)),
      suffixes: anyMount.filter((p) => !p.endsWith('*')),
      infixes: anyMount.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1)),
    };
    // A caller's mutable array may change after this call: only frozen lists are remembered.
    if (Object.isFrozen(patterns)) compiled.set(patterns, c);
  }
  return c;
}

export function matchesRootPath(path: string, patterns: readonly string[]): boolean {
  const c = compile(patterns);
  if (c.exact.has(path)) return true;
  for (const p of c.prefixes) if (path.startsWith(p)) return true;
  for (const p of c.suffixes) if (path.endsWith(p)) return true;
  for (const p of c.infixes) if (path.includes(p)) return true;
  return false;
}
