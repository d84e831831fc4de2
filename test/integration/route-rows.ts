/**
 * One valid request per route and operation the dev server registers (sys, auth/token, secret/ KV v2,
 * transit, identity, MFA, control groups, wrapping, key holders), in an order that works when they run
 * one after another as root: writes before the reads and deletes of what they wrote, sys/seal last.
 * authz-matrix.test.ts checks every one against the ACL (and that no route lacks a row);
 * write-failure.test.ts fails each one's storage writes part-way.
 */
/** The root token id the rows' bodies name (sys/capabilities, auth/token/lookup): start the server with it. */
export const MATRIX_ROOT = 'matrix-root-token';

export type Method = 'GET' | 'LIST' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Row {
  /** The enumerated route(s) this request exercises (full logical pattern). */
  route: string | string[];
  method: Method;
  path: string;
  body?: Record<string, unknown>;
  caps: string[];
  /** ACL path to grant, when it differs from `path` (lists grant on the folder). */
  grant?: string;
  /** Root is not asked (revoke-self would revoke the root token the test runs on). */
  skipRoot?: boolean;
  /** Reachable without a token by design (it authenticates by its own secret): every cell passes the ACL. */
  open?: boolean;
}

export const ROWS: Row[] = [
  { route: 'sys/mounts', method: 'GET', path: 'sys/mounts', caps: ['read'] },
  { route: 'sys/mounts/:path*', method: 'POST', path: 'sys/mounts/m1', body: { type: 'kv' }, caps: ['create', 'update'] },
  { route: 'sys/mounts/:path*', method: 'GET', path: 'sys/mounts/secret', caps: ['read'] },
  { route: 'sys/mounts/:path*', method: 'DELETE', path: 'sys/mounts/m1', caps: ['delete'] },
  { route: 'sys/internal/ui/mounts/:path*', method: 'GET', path: 'sys/internal/ui/mounts/secret', caps: ['read'] },
  { route: 'sys/policies/acl', method: 'LIST', path: 'sys/policies/acl', caps: ['list'], grant: 'sys/policies/acl/' },
  { route: 'sys/policies/acl', method: 'GET', path: 'sys/policies/acl', caps: ['read'] },
  { route: 'sys/policies/acl/:name', method: 'PUT', path: 'sys/policies/acl/tmp', body: { policy: 'path "x" { capabilities = ["read"] }' }, caps: ['create', 'update'] },
  { route: 'sys/policies/acl/:name', method: 'GET', path: 'sys/policies/acl/tmp', caps: ['read'] },
  { route: 'sys/policies/acl/:name', method: 'DELETE', path: 'sys/policies/acl/tmp', caps: ['delete'] },
  { route: 'sys/policy', method: 'GET', path: 'sys/policy', caps: ['read'] },
  { route: 'sys/policy', method: 'LIST', path: 'sys/policy', caps: ['list'], grant: 'sys/policy/' },
  { route: 'sys/policy/:name', method: 'PUT', path: 'sys/policy/tmp2', body: { rules: 'path "x" { capabilities = ["read"] }' }, caps: ['create', 'update'] },
  { route: 'sys/policy/:name', method: 'GET', path: 'sys/policy/tmp2', caps: ['read'] },
  { route: 'sys/policy/:name', method: 'DELETE', path: 'sys/policy/tmp2', caps: ['delete'] },
  { route: 'sys/rotate', method: 'PUT', path: 'sys/rotate', caps: ['update', 'sudo'] },
  { route: 'sys/storage/snapshot', method: 'GET', path: 'sys/storage/snapshot', caps: ['read', 'sudo'] },
  { route: 'sys/storage/snapshot', method: 'PUT', path: 'sys/storage/snapshot', body: { snapshot: 'AAAA' }, caps: ['update', 'sudo'] },
  { route: 'sys/key-status', method: 'GET', path: 'sys/key-status', caps: ['read'] },
  { route: 'sys/auth', method: 'GET', path: 'sys/auth', caps: ['read'] },
  // An unknown auth type: refused by the engine (400) once authorized, so nothing is enabled.
  { route: 'sys/auth/:path*', method: 'POST', path: 'sys/auth/none', body: { type: 'nope' }, caps: ['create', 'update', 'sudo'] },
  { route: 'sys/auth/:path*', method: 'GET', path: 'sys/auth/token', caps: ['read', 'sudo'] },
  { route: 'sys/auth/:path*', method: 'DELETE', path: 'sys/auth/none', caps: ['delete', 'sudo'] },
  { route: 'sys/audit', method: 'GET', path: 'sys/audit', caps: ['read', 'sudo'] },
  { route: 'sys/audit-checkpoint', method: 'PUT', path: 'sys/audit-checkpoint', caps: ['update', 'sudo'] },
  // No file device in this server: authorized callers get 404 from the handler.
  { route: 'sys/audit-log', method: 'GET', path: 'sys/audit-log', caps: ['read', 'sudo'] },
  // An unknown device type: refused by the engine (400) once authorized, so no device is enabled.
  { route: 'sys/audit/:path*', method: 'PUT', path: 'sys/audit/none', body: { type: 'nope' }, caps: ['create', 'update', 'sudo'] },
  { route: 'sys/audit/:path*', method: 'DELETE', path: 'sys/audit/none', caps: ['delete', 'sudo'] },
  { route: 'sys/audit-hash/:path*', method: 'PUT', path: 'sys/audit-hash/none', body: { input: 'x' }, caps: ['update', 'sudo'] },
  { route: 'sys/capabilities-self', method: 'PUT', path: 'sys/capabilities-self', body: { paths: ['secret/data/a'] }, caps: ['update'] },
  { route: 'sys/metrics', method: 'GET', path: 'sys/metrics', caps: ['read'] },
  { route: 'sys/ha-status', method: 'GET', path: 'sys/ha-status', caps: ['read'] },
  // Revoking by a prefix no token was issued under: 204 once authorized (sudo: Vault's root paths).
  { route: 'sys/leases/revoke-prefix/:prefix*', method: 'PUT', path: 'sys/leases/revoke-prefix/auth/none', body: {}, caps: ['update', 'sudo'] },
  { route: 'sys/leases/revoke-force/:prefix*', method: 'PUT', path: 'sys/leases/revoke-force/auth/none', body: {}, caps: ['update', 'sudo'] },
  { route: 'sys/revoke-prefix/:prefix*', method: 'PUT', path: 'sys/revoke-prefix/auth/none', body: {}, caps: ['update', 'sudo'] },
  // Moving a mount that does not exist: 400 from the handler once authorized (sudo: Vault's root path).
  { route: 'sys/remount', method: 'POST', path: 'sys/remount', body: { from: 'nowhere', to: 'elsewhere' }, caps: ['update', 'sudo'] },
  // An unknown migration id: 404 from the handler once authorized.
  { route: 'sys/remount/status/:id', method: 'GET', path: 'sys/remount/status/none', caps: ['read'] },
  // Another token's capabilities (root-protected: sudo); the matrix's root token is a real one.
  { route: 'sys/capabilities', method: 'PUT', path: 'sys/capabilities', body: { token: MATRIX_ROOT, paths: ['secret/data/a'] }, caps: ['update', 'sudo'] },
  // An unknown accessor: 400 from the handler once authorized.
  { route: 'sys/capabilities-accessor', method: 'PUT', path: 'sys/capabilities-accessor', body: { accessor: 'none', paths: ['secret/data/a'] }, caps: ['update', 'sudo'] },
  { route: 'sys/tools/hash', method: 'PUT', path: 'sys/tools/hash', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'sys/tools/hash/:algorithm', method: 'PUT', path: 'sys/tools/hash/sha2-512', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'sys/tools/random', method: 'PUT', path: 'sys/tools/random', body: {}, caps: ['update'] },
  { route: 'sys/tools/random/:a', method: 'PUT', path: 'sys/tools/random/16', body: {}, caps: ['update'] },
  { route: 'sys/tools/random/:a/:b', method: 'PUT', path: 'sys/tools/random/platform/16', body: {}, caps: ['update'] },
  // Without a wrap TTL: 400 from the handler once authorized (nothing to wrap into).
  { route: 'sys/wrapping/wrap', method: 'PUT', path: 'sys/wrapping/wrap', body: { a: 'b' }, caps: ['update'] },
  { route: 'sys/step-down', method: 'PUT', path: 'sys/step-down', caps: ['update', 'sudo'] },
  { route: 'auth/token/create', method: 'POST', path: 'auth/token/create', body: { policies: ['default'] }, caps: ['update', 'create'] },
  { route: 'auth/token/create-orphan', method: 'POST', path: 'auth/token/create-orphan', body: { policies: ['default'] }, caps: ['update', 'create'] },
  { route: 'auth/token/lookup-self', method: 'GET', path: 'auth/token/lookup-self', caps: ['read'] },
  // A real token: looking up an unknown one is Vault's 403 `bad token`, past the ACL.
  { route: 'auth/token/lookup', method: 'POST', path: 'auth/token/lookup', body: { token: MATRIX_ROOT }, caps: ['update'] },
  { route: 'auth/token/lookup', method: 'GET', path: 'auth/token/lookup', caps: ['read'] },
  { route: 'auth/token/lookup-accessor', method: 'POST', path: 'auth/token/lookup-accessor', body: { accessor: 'nope' }, caps: ['update'] },
  { route: 'auth/token/renew-self', method: 'POST', path: 'auth/token/renew-self', body: {}, caps: ['update'] },
  { route: 'auth/token/renew', method: 'POST', path: 'auth/token/renew', body: { token: 'hvs.nope' }, caps: ['update'] },
  { route: 'auth/token/revoke-self', method: 'POST', path: 'auth/token/revoke-self', body: {}, caps: ['update'], skipRoot: true },
  { route: 'auth/token/revoke', method: 'POST', path: 'auth/token/revoke', body: { token: 'hvs.nope' }, caps: ['update'] },
  { route: 'auth/token/revoke-accessor', method: 'POST', path: 'auth/token/revoke-accessor', body: { accessor: 'nope' }, caps: ['update'] },
  { route: 'auth/token/revoke-orphan', method: 'POST', path: 'auth/token/revoke-orphan', body: { token: 'hvs.nope' }, caps: ['update', 'sudo'] },
  { route: 'auth/token/accessors', method: 'LIST', path: 'auth/token/accessors', caps: ['list', 'sudo'], grant: 'auth/token/accessors/' },
  { route: 'auth/token/tidy', method: 'POST', path: 'auth/token/tidy', body: {}, caps: ['update'] },
  // Token roles: the role written first, then read, used (its allowed policy), listed and deleted.
  { route: 'auth/token/roles/:role_name', method: 'POST', path: 'auth/token/roles/matrix', body: { allowed_policies: ['matrix-role'] }, caps: ['create', 'update'] },
  { route: 'auth/token/roles/:role_name', method: 'GET', path: 'auth/token/roles/matrix', caps: ['read'] },
  { route: 'auth/token/create/:role_name', method: 'POST', path: 'auth/token/create/matrix', body: {}, caps: ['update', 'create'] },
  { route: 'auth/token/roles', method: 'LIST', path: 'auth/token/roles', caps: ['list'], grant: 'auth/token/roles/' },
  { route: 'auth/token/roles/:role_name', method: 'DELETE', path: 'auth/token/roles/none', caps: ['delete'] },
  { route: 'secret/data/:path*', method: 'POST', path: 'secret/data/app', body: { data: { a: '1' } }, caps: ['create', 'update'] },
  { route: 'secret/data/:path*', method: 'GET', path: 'secret/data/app', caps: ['read'] },
  { route: 'secret/data/:path*', method: 'PATCH', path: 'secret/data/app', body: { data: { b: '2' } }, caps: ['patch'] },
  { route: 'secret/metadata/:path*', method: 'GET', path: 'secret/metadata/app', caps: ['read'] },
  { route: 'secret/metadata/:path*', method: 'POST', path: 'secret/metadata/app', body: { max_versions: 5 }, caps: ['create', 'update'] },
  { route: 'secret/metadata/:path*', method: 'PATCH', path: 'secret/metadata/app', body: { max_versions: 6 }, caps: ['patch'] },
  { route: 'secret/metadata/:path*', method: 'LIST', path: 'secret/metadata/dir', caps: ['list'], grant: 'secret/metadata/dir/' },
  { route: 'secret/metadata/', method: 'LIST', path: 'secret/metadata', caps: ['list'], grant: 'secret/metadata/' },
  { route: 'secret/delete/:path*', method: 'POST', path: 'secret/delete/app', body: { versions: [1] }, caps: ['update'] },
  { route: 'secret/undelete/:path*', method: 'POST', path: 'secret/undelete/app', body: { versions: [1] }, caps: ['update'] },
  { route: 'secret/destroy/:path*', method: 'POST', path: 'secret/destroy/app', body: { versions: [1] }, caps: ['update'] },
  { route: 'secret/data/:path*', method: 'DELETE', path: 'secret/data/app', caps: ['delete'] },
  { route: 'secret/metadata/:path*', method: 'DELETE', path: 'secret/metadata/app', caps: ['delete'] },
  { route: 'secret/config', method: 'GET', path: 'secret/config', caps: ['read'] },
  { route: 'secret/config', method: 'POST', path: 'secret/config', body: { max_versions: 10 }, caps: ['update'] },
  { route: 'secret/search', method: 'GET', path: 'secret/search', caps: ['read'] },
  { route: 'transit/keys/:name', method: 'POST', path: 'transit/keys/k', body: {}, caps: ['create', 'update'] },
  { route: 'transit/keys/:name', method: 'GET', path: 'transit/keys/k', caps: ['read'] },
  // LIST always reaches the engine with a trailing slash; both patterns answer it.
  { route: ['transit/keys', 'transit/keys/'], method: 'LIST', path: 'transit/keys', caps: ['list'], grant: 'transit/keys/' },
  { route: 'transit/keys/:name/rotate', method: 'POST', path: 'transit/keys/k/rotate', body: {}, caps: ['update'] },
  { route: 'transit/keys/:name/config', method: 'POST', path: 'transit/keys/k/config', body: { deletion_allowed: true }, caps: ['update'] },
  { route: 'transit/encrypt/:name', method: 'POST', path: 'transit/encrypt/k', body: { plaintext: 'aGk=' }, caps: ['update', 'create'] },
  { route: 'transit/decrypt/:name', method: 'POST', path: 'transit/decrypt/k', body: { ciphertext: 'vault:v1:AAAA' }, caps: ['update'] },
  { route: 'transit/rewrap/:name', method: 'POST', path: 'transit/rewrap/k', body: { ciphertext: 'vault:v1:AAAA' }, caps: ['update'] },
  { route: 'transit/datakey/:kind/:name', method: 'POST', path: 'transit/datakey/plaintext/k', body: {}, caps: ['update'] },
  { route: 'transit/random', method: 'POST', path: 'transit/random', body: {}, caps: ['update'] },
  { route: 'transit/random/:a', method: 'POST', path: 'transit/random/16', body: {}, caps: ['update'] },
  { route: 'transit/random/:a/:b', method: 'POST', path: 'transit/random/platform/16', body: {}, caps: ['update'] },
  { route: 'transit/hash', method: 'POST', path: 'transit/hash', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'transit/hash/:algorithm', method: 'POST', path: 'transit/hash/sha2-256', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'transit/hmac/:name', method: 'POST', path: 'transit/hmac/k', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'transit/hmac/:name/:algorithm', method: 'POST', path: 'transit/hmac/k/sha2-512', body: { input: 'aGk=' }, caps: ['update'] },
  { route: 'transit/verify/:name', method: 'POST', path: 'transit/verify/k', body: { input: 'aGk=', hmac: 'vault:v1:AAAA' }, caps: ['update'] },
  { route: 'transit/verify/:name/:algorithm', method: 'POST', path: 'transit/verify/k/sha2-512', body: { input: 'aGk=', hmac: 'vault:v1:AAAA' }, caps: ['update'] },
  { route: 'transit/keys/:name', method: 'DELETE', path: 'transit/keys/k', caps: ['delete'] },
  { route: 'identity/entity', method: 'POST', path: 'identity/entity', body: { name: 'matrix-e' }, caps: ['create', 'update'] },
  { route: 'identity/entity/id/', method: 'LIST', path: 'identity/entity/id', caps: ['list'], grant: 'identity/entity/id/' },
  { route: 'identity/entity/id/:id', method: 'GET', path: 'identity/entity/id/none', caps: ['read'] },
  { route: 'identity/entity/id/:id', method: 'POST', path: 'identity/entity/id/none', body: { policies: ['x'] }, caps: ['create', 'update'] },
  { route: 'identity/entity/id/:id', method: 'DELETE', path: 'identity/entity/id/none', caps: ['delete'] },
  { route: 'identity/entity/name/', method: 'LIST', path: 'identity/entity/name', caps: ['list'], grant: 'identity/entity/name/' },
  { route: 'identity/entity/name/:name', method: 'GET', path: 'identity/entity/name/matrix-e', caps: ['read'] },
  { route: 'identity/entity/name/:name', method: 'POST', path: 'identity/entity/name/matrix-e', body: { policies: ['x'] }, caps: ['create', 'update'] },
  { route: 'identity/entity/name/:name', method: 'DELETE', path: 'identity/entity/name/matrix-gone', caps: ['delete'] },
  // An unknown canonical_id: refused by the engine (400) once authorized.
  { route: 'identity/entity-alias', method: 'POST', path: 'identity/entity-alias', body: { name: 'a', canonical_id: 'none' }, caps: ['create', 'update'] },
  { route: 'identity/entity-alias/id/', method: 'LIST', path: 'identity/entity-alias/id', caps: ['list'], grant: 'identity/entity-alias/id/' },
  { route: 'identity/entity-alias/id/:id', method: 'GET', path: 'identity/entity-alias/id/none', caps: ['read'] },
  { route: 'identity/entity-alias/id/:id', method: 'POST', path: 'identity/entity-alias/id/none', body: { name: 'b' }, caps: ['create', 'update'] },
  { route: 'identity/entity-alias/id/:id', method: 'DELETE', path: 'identity/entity-alias/id/none', caps: ['delete'] },
  { route: 'identity/group', method: 'POST', path: 'identity/group', body: { name: 'matrix-g' }, caps: ['create', 'update'] },
  { route: 'identity/group/id/', method: 'LIST', path: 'identity/group/id', caps: ['list'], grant: 'identity/group/id/' },
  { route: 'identity/group/id/:id', method: 'GET', path: 'identity/group/id/none', caps: ['read'] },
  { route: 'identity/group/id/:id', method: 'POST', path: 'identity/group/id/none', body: { policies: ['x'] }, caps: ['create', 'update'] },
  { route: 'identity/group/id/:id', method: 'DELETE', path: 'identity/group/id/none', caps: ['delete'] },
  { route: 'identity/group/name/', method: 'LIST', path: 'identity/group/name', caps: ['list'], grant: 'identity/group/name/' },
  { route: 'identity/group/name/:name', method: 'GET', path: 'identity/group/name/matrix-g', caps: ['read'] },
  { route: 'identity/group/name/:name', method: 'POST', path: 'identity/group/name/matrix-g', body: { policies: ['x'] }, caps: ['create', 'update'] },
  { route: 'identity/group/name/:name', method: 'DELETE', path: 'identity/group/name/matrix-gone', caps: ['delete'] },
  { route: 'identity/mfa/method/totp', method: 'POST', path: 'identity/mfa/method/totp', body: { method_name: 'm' }, caps: ['create', 'update'] },
  { route: 'identity/mfa/method/totp/', method: 'LIST', path: 'identity/mfa/method/totp', caps: ['list'], grant: 'identity/mfa/method/totp/' },
  { route: 'identity/mfa/method/totp/:id', method: 'GET', path: 'identity/mfa/method/totp/none', caps: ['read'] },
  { route: 'identity/mfa/method/totp/:id', method: 'POST', path: 'identity/mfa/method/totp/none', body: { issuer: 'x' }, caps: ['create', 'update'] },
  { route: 'identity/mfa/method/totp/:id', method: 'DELETE', path: 'identity/mfa/method/totp/none', caps: ['delete'] },
  // Unknown method ids: refused by the engine (400) once authorized, so nothing is enrolled.
  { route: 'identity/mfa/method/totp/generate', method: 'POST', path: 'identity/mfa/method/totp/generate', body: { method_id: 'none' }, caps: ['update'] },
  { route: 'identity/mfa/method/totp/admin-generate', method: 'POST', path: 'identity/mfa/method/totp/admin-generate', body: { method_id: 'none', entity_id: 'none' }, caps: ['update'] },
  { route: 'identity/mfa/method/totp/admin-destroy', method: 'POST', path: 'identity/mfa/method/totp/admin-destroy', body: { method_id: 'none', entity_id: 'none' }, caps: ['update'] },
  { route: 'identity/mfa/method/', method: 'LIST', path: 'identity/mfa/method', caps: ['list'], grant: 'identity/mfa/method/' },
  { route: 'identity/mfa/method/webauthn', method: 'POST', path: 'identity/mfa/method/webauthn', body: { rp_id: 'localhost', origins: ['http://localhost:8200'] }, caps: ['create', 'update'] },
  { route: 'identity/mfa/method/webauthn/', method: 'LIST', path: 'identity/mfa/method/webauthn', caps: ['list'], grant: 'identity/mfa/method/webauthn/' },
  { route: 'identity/mfa/method/webauthn/:id', method: 'GET', path: 'identity/mfa/method/webauthn/none', caps: ['read'] },
  { route: 'identity/mfa/method/webauthn/:id', method: 'POST', path: 'identity/mfa/method/webauthn/none', body: { rp_name: 'x' }, caps: ['create', 'update'] },
  { route: 'identity/mfa/method/webauthn/:id', method: 'DELETE', path: 'identity/mfa/method/webauthn/none', caps: ['delete'] },
  // Matrix tokens have no entity (and the method ids are unknown): refused by the handler (400) once authorized.
  { route: 'identity/mfa/method/webauthn/register/begin', method: 'POST', path: 'identity/mfa/method/webauthn/register/begin', body: { method_id: 'none' }, caps: ['update'] },
  { route: 'identity/mfa/method/webauthn/register/finish', method: 'POST', path: 'identity/mfa/method/webauthn/register/finish', body: { method_id: 'none', response: {} }, caps: ['update'] },
  { route: 'identity/mfa/method/webauthn/credentials', method: 'GET', path: 'identity/mfa/method/webauthn/credentials', caps: ['read'] },
  { route: 'identity/mfa/method/webauthn/admin-destroy', method: 'POST', path: 'identity/mfa/method/webauthn/admin-destroy', body: { method_id: 'none', entity_id: 'none' }, caps: ['update'] },
  { route: 'identity/mfa/login-enforcement/', method: 'LIST', path: 'identity/mfa/login-enforcement', caps: ['list'], grant: 'identity/mfa/login-enforcement/' },
  { route: 'identity/mfa/login-enforcement/:name', method: 'GET', path: 'identity/mfa/login-enforcement/none', caps: ['read'] },
  { route: 'identity/mfa/login-enforcement/:name', method: 'POST', path: 'identity/mfa/login-enforcement/e1', body: { mfa_method_ids: ['none'], auth_method_types: ['userpass'] }, caps: ['create', 'update'] },
  { route: 'identity/mfa/login-enforcement/:name', method: 'DELETE', path: 'identity/mfa/login-enforcement/none', caps: ['delete'] },
  // The second login step: no token yet, the MFA request id is the credential (an unknown one is refused).
  { route: 'sys/mfa/validate', method: 'POST', path: 'sys/mfa/validate', body: { mfa_request_id: 'none', mfa_payload: {} }, caps: ['update'], open: true },
  // Step-up needs a token with an entity (matrix tokens have none: 400 once authorized); never open.
  { route: 'sys/mfa/step-up', method: 'POST', path: 'sys/mfa/step-up', body: {}, caps: ['update'] },
  // Unknown accessors: 404 from the handler once authorized.
  { route: 'sys/control-group/request', method: 'POST', path: 'sys/control-group/request', body: { accessor: 'none' }, caps: ['update'] },
  { route: 'sys/control-group/authorize', method: 'POST', path: 'sys/control-group/authorize', body: { accessor: 'none' }, caps: ['update'] },
  { route: 'sys/control-group/requests', method: 'LIST', path: 'sys/control-group/requests', caps: ['list'], grant: 'sys/control-group/requests/' },
  // The wrapping token is the credential (an unknown one is refused): reachable without a token, as in Vault.
  { route: 'sys/wrapping/lookup', method: 'POST', path: 'sys/wrapping/lookup', body: { token: 'hvs.none' }, caps: ['update'], open: true },
  { route: 'sys/wrapping/unwrap', method: 'POST', path: 'sys/wrapping/unwrap', body: { token: 'hvs.none' }, caps: ['update'], open: true },
  { route: 'sys/wrapping/rewrap', method: 'POST', path: 'sys/wrapping/rewrap', body: { token: 'hvs.none' }, caps: ['update'], open: true },
  // Key shares are the credential (Vault's unauthenticated sys/generate-root): no token needed. Update with
  // an unknown nonce is refused by the handler (400); a second start gets 400 "already in progress".
  { route: 'sys/generate-root/attempt', method: 'GET', path: 'sys/generate-root/attempt', caps: ['read'], open: true },
  { route: 'sys/generate-root/attempt', method: 'PUT', path: 'sys/generate-root/attempt', body: {}, caps: ['update'], open: true },
  { route: 'sys/generate-root/update', method: 'PUT', path: 'sys/generate-root/update', body: { key: 'ab', nonce: 'none' }, caps: ['update'], open: true },
  { route: 'sys/generate-root/attempt', method: 'DELETE', path: 'sys/generate-root/attempt', caps: ['delete'], open: true },
  // The same for a rekey (Vault's unauthenticated sys/rekey): the status, a start (later ones: 400
  // "already in progress"), a share with an unknown nonce (400), the cancel. No HSM: recovery keys 400.
  { route: 'sys/rekey/init', method: 'GET', path: 'sys/rekey/init', caps: ['read'], open: true },
  { route: 'sys/rekey/init', method: 'PUT', path: 'sys/rekey/init', body: { secret_shares: 1, secret_threshold: 1 }, caps: ['update'], open: true },
  { route: 'sys/rekey/update', method: 'PUT', path: 'sys/rekey/update', body: { key: 'ab', nonce: 'none' }, caps: ['update'], open: true },
  { route: 'sys/rekey/init', method: 'DELETE', path: 'sys/rekey/init', caps: ['delete'], open: true },
  { route: 'sys/rekey-recovery-key/init', method: 'GET', path: 'sys/rekey-recovery-key/init', caps: ['read'], open: true },
  { route: 'sys/rekey-recovery-key/init', method: 'PUT', path: 'sys/rekey-recovery-key/init', body: { secret_shares: 1, secret_threshold: 1 }, caps: ['update'], open: true },
  { route: 'sys/rekey-recovery-key/update', method: 'PUT', path: 'sys/rekey-recovery-key/update', body: { key: 'ab', nonce: 'none' }, caps: ['update'], open: true },
  { route: 'sys/rekey-recovery-key/init', method: 'DELETE', path: 'sys/rekey-recovery-key/init', caps: ['delete'], open: true },
  { route: 'sys/seal', method: 'PUT', path: 'sys/seal', body: {}, caps: ['update', 'sudo'] }, // last: seals the server
];
