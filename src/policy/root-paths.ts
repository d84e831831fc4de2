/**
 * Root-protected ("sudo") paths: besides the operation's capability, the deciding rule must grant `sudo`
 * (or the token must be root). Vault's `sys/` list (vault/logical_system.go PathsSpecial.Root), the token
 * store's (`revoke-orphan/*`, `accessors*`), `sys/capabilities` (reads another token's capabilities) and
 * `sys/audit-hash/*` (the reference groups it with the sudo-protected audit endpoints).
 * A trailing `*` is a raw prefix; anything else must match exactly.
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
  'auth/token/revoke-orphan*',
  'auth/token/accessors*',
]);

export function matchesRootPath(path: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p) return true;
  }
  return false;
}
