/**
 * Every stable error code Arca emits. Codes are never renamed: clients and runbooks match on them.
 * Adding a code here without adding it to the HTTP and gRPC tables fails the type check.
 */
export const ERROR_CODES = [
  // generic
  'ERR_INTERNAL',
  'ERR_INVALID_REQUEST',
  /** A number or duration outside its allowed range; the message names the field and the range. */
  'ERR_FIELD_OUT_OF_RANGE',
  'ERR_NOT_FOUND',
  /** A client (CLI, agent) could not reach the Arca server at its configured address. */
  'ERR_SERVER_UNREACHABLE',
  'ERR_UNSUPPORTED_OPERATION',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_RATE_LIMITED',
  // config
  'ERR_CONFIG_INVALID',
  'ERR_CONFIG_READ',
  // auth & policy
  'ERR_PERMISSION_DENIED',
  'ERR_TOKEN_INVALID',
  // audit
  'ERR_AUDIT_UNAVAILABLE',
  // seal / init
  'ERR_SEALED',
  'ERR_NOT_INITIALIZED',
  'ERR_ALREADY_INITIALIZED',
  'ERR_SEAL_SHARE_MALFORMED',
  'ERR_SEAL_SHARE_UNKNOWN',
  'ERR_SEAL_SHARE_DUPLICATE',
  'ERR_SEAL_UNSEAL_FAILED',
  'ERR_SEAL_CONFIG_INVALID',
  'ERR_HSM_UNAVAILABLE',
  'ERR_HSM_KEY_MISSING',
  // storage & barrier
  'ERR_STORAGE_UNAVAILABLE',
  'ERR_STORAGE_CONFLICT',
  'ERR_STORAGE_LOCKED',
  'ERR_BARRIER_DECRYPT',
  'ERR_BARRIER_SEALED',
  // crypto
  'ERR_CRYPTO_DECRYPT',
  'ERR_CRYPTO_INVALID_KEY',
  // HA
  'ERR_HA_STANDBY',
  'ERR_HA_LEASE_LOST',
  // kubernetes encryption toolkit
  'ERR_ENCCONFIG_INVALID',
  'ERR_ENCCONFIG_PARSE',
  'ERR_TRANSFORM_DECRYPT',
  'ERR_TRANSFORM_NO_PROVIDER',
  'ERR_KMS_PLUGIN_UNAVAILABLE',
  'ERR_KMS_PLUGIN_RESPONSE',
  /** A KMS plugin Decrypt named a key_id that is not (or no longer) a version of its key. */
  'ERR_KMS_KEY_ID_UNKNOWN',
  'ERR_ETCD_UNAVAILABLE',
  'ERR_ETCD_KEY_NOT_FOUND',
  // transit engine
  'ERR_TRANSIT_KEY_NOT_FOUND',
  'ERR_TRANSIT_CIPHERTEXT_MALFORMED',
  'ERR_TRANSIT_VERSION_DISALLOWED',
  'ERR_TRANSIT_DELETION_DISALLOWED',
  // kubernetes auth method
  /** A login named a role that does not exist on the mount. */
  'ERR_K8S_AUTH_ROLE_UNKNOWN',
  /** The mount has no `config` yet (no API server, keys or JWKS to verify with). */
  'ERR_K8S_AUTH_NOT_CONFIGURED',
  /** The service-account JWT failed verification (signature, alg, kid, iss, aud, exp, nbf, sub, claims). */
  'ERR_K8S_AUTH_JWT_INVALID',
  /** A valid token whose service account or namespace the role does not bind. */
  'ERR_K8S_AUTH_NOT_BOUND',
  /** The API server's TokenReview did not authenticate the token (or its identity differs). */
  'ERR_K8S_AUTH_TOKENREVIEW_DENIED',
  /** The API server (TokenReview) or the JWKS/OIDC discovery endpoint could not be reached or answered badly. */
  'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE',
  /** An identity name (entity, group, alias on a mount) is already taken. */
  'ERR_IDENTITY_CONFLICT',
  /** A login with a wrong user name or password (one message for both). */
  'ERR_LOGIN_FAILED',
  /** Too many failed logins for this user: locked for a while (other users are unaffected). */
  'ERR_LOGIN_LOCKED',
  /** An MFA request id, method or passcode was not accepted (one message for all). */
  'ERR_MFA_INVALID',
  /** A response-wrapping token is unknown, expired or already used. */
  'ERR_WRAPPING_INVALID',
  /** A control-group request cannot be approved or completed (no approvers configured, expired, not yet approved). */
  'ERR_CONTROL_GROUP_DENIED',
  /** An OIDC redirect_uri is not in the role's allowed_redirect_uris. */
  'ERR_OIDC_REDIRECT_URI_DISALLOWED',
  /** An OIDC callback state is unknown, expired or already used. */
  'ERR_OIDC_STATE_INVALID',
  /** The OpenID Provider's answer failed validation (code, PKCE, nonce, ID token, audience, claims). */
  'ERR_OIDC_LOGIN_FAILED',
  /** The OpenID Provider could not be reached or answered badly. */
  'ERR_OIDC_UPSTREAM_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
