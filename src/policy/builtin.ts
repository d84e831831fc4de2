import type { Policy } from './types.ts';

/** The built-in `root` policy: every capability on every path. Never stored, never written. */
export const ROOT_POLICY_NAME = 'root';
/** The built-in `default` policy, attached to non-root tokens unless `no_default_policy`. Editable, not deletable. */
export const DEFAULT_POLICY_NAME = 'default';

/** `root` has no rules: `Acl` recognises it by name and grants everything, including sudo paths. */
export const ROOT_POLICY: Policy = Object.freeze({ name: ROOT_POLICY_NAME, rules: Object.freeze([]), text: '' });

/**
 * Text of the `default` policy written at init. It grants what every token needs to manage itself:
 * clients (Vault CLI, External Secrets Operator) call `lookup-self` with every token.
 */
export const DEFAULT_POLICY_TEXT = `# The default policy: attached to every non-root token unless no_default_policy is set.
# Lets a token inspect, renew and revoke itself and ask what it may do.

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

path "sys/capabilities-self" {
  capabilities = ["update"]
}

path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Lease renewal and lookup of the token's own leases.
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Per-token private storage.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# Hashing helpers that touch no stored secret.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}
`;
