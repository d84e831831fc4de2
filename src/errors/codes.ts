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
  // secrets-store CSI provider (the wire Error.code of a failed Mount; also a metric label)
  /** A SecretProviderClass parameter or mount attribute is missing or malformed; the message names it. */
  'ERR_CSI_PARAMETER_INVALID',
  /** An objectName is not a clean relative path (absolute, `..`, `./`, doubled or trailing `/`) or collides with another. */
  'ERR_CSI_OBJECT_NAME_INVALID',
  /** `csi.storage.k8s.io/serviceAccount.tokens` has no token for the configured audience (check CSIDriver tokenRequests). */
  'ERR_CSI_TOKEN_MISSING',
  /** A value does not decode with the object's encoding (base64 or hex). */
  'ERR_CSI_DECODE_FAILED',
  /** The files of one Mount exceed 4 MiB, the driver's default receive limit. */
  'ERR_CSI_MOUNT_TOO_LARGE',
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
  // pki engine
  /** The mount has no CA yet (root/generate or intermediate/set-signed first). */
  'ERR_PKI_CA_MISSING',
  /** The mount already holds a CA (one CA per mount: mount another path to rotate). */
  'ERR_PKI_CA_EXISTS',
  /** issue/sign named a role that does not exist on the mount. */
  'ERR_PKI_ROLE_UNKNOWN',
  /** A common name, DNS/IP/URI/email SAN the role does not allow. */
  'ERR_PKI_NAME_NOT_ALLOWED',
  /** A requested TTL over the role's max_ttl, or a NotAfter past the CA's. */
  'ERR_PKI_TTL_EXCEEDS_MAX',
  /** A key type or size the role (or Arca) does not allow. */
  'ERR_PKI_KEY_TYPE',
  /** A CSR or certificate that does not parse, verify, or fit (CA CSR on sign-verbatim, key mismatch on set-signed). */
  'ERR_PKI_CSR_INVALID',
  /** revoke named a serial this mount did not store. */
  'ERR_PKI_CERT_UNKNOWN',
  /** `exported` asked of a mount whose CA keys live non-extractable in the HSM. */
  'ERR_PKI_KEY_NOT_EXPORTABLE',
  // cert auth method
  /** cert login over a connection without TLS (plain HTTP, or a TLS-terminating proxy: never trusted from a header). */
  'ERR_CERT_AUTH_TLS_REQUIRED',
  /** no client certificate, or one that does not chain to a trusted role certificate (expired, wrong CA, no clientAuth). */
  'ERR_CERT_AUTH_INVALID',
  /** the certificate chains to a role but no role's name constraints match it. */
  'ERR_CERT_AUTH_NO_MATCH',
  // admission webhook (arca injector)
  /** The body is not an admission.k8s.io/v1 AdmissionReview with a request and uid. */
  'ERR_INJECTOR_REVIEW_MALFORMED',
  /** An arca.dev/* annotation of an opted-in pod is missing or invalid; the message names the annotation. */
  'ERR_INJECTOR_ANNOTATION_INVALID',
  /** The pod cannot be injected as asked (e.g. env mode without a command, a name already taken). */
  'ERR_INJECTOR_POD_UNSUPPORTED',
  // secret rendering (agent, CSI provider)
  /** A render spec is unusable: unknown format, a field name that the format cannot carry, a value it cannot encode. */
  'ERR_RENDER_INVALID',
  /** A template does not parse, or uses a construct Arca refuses (partials). */
  'ERR_RENDER_TEMPLATE_INVALID',
  /** A field named by the spec or the template is not in the secret (strict: never an empty string). */
  'ERR_RENDER_FIELD_MISSING',
  // agent
  /** The agent could not write a rendered file (directory missing, permission, disk full). */
  'ERR_AGENT_WRITE_FAILED',
  /** The agent's exec child could not be started. */
  'ERR_AGENT_EXEC_FAILED',
  /** An identity name (entity, group, alias on a mount) is already taken. */
  'ERR_IDENTITY_CONFLICT',
  /** A login with a wrong user name or password (one message for both). */
  'ERR_LOGIN_FAILED',
  /** Too many failed logins for this user: locked for a while (other users are unaffected). */
  'ERR_LOGIN_LOCKED',
  /** An MFA request id, method or passcode was not accepted (one message for all). */
  'ERR_MFA_INVALID',
  /** The entity has no enrollment (TOTP secret, WebAuthn credential) for any method it is asked for. */
  'ERR_MFA_NOT_ENROLLED',
  /** An MFA operation for the caller's own entity was sent with a token that has none (root or token-created). */
  'ERR_MFA_ENTITY_REQUIRED',
  /** A WebAuthn registration response was not accepted (challenge unknown/expired/used, origin, RP ID, signature). */
  'ERR_MFA_REGISTRATION_FAILED',
  /** A response-wrapping token is unknown, expired or already used. */
  'ERR_WRAPPING_INVALID',
  /** A control-group request cannot be approved or completed (no approvers configured, expired, not yet approved). */
  'ERR_CONTROL_GROUP_DENIED',
  /** Approving a control-group request needs a token from a recent MFA login: step up (sys/mfa/step-up) and retry. */
  'ERR_CONTROL_GROUP_MFA_REQUIRED',
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
