import { createHmac } from 'node:crypto';

/** Prefix of every HMAC'd value, as in Vault's audit log and `sys/audit-hash`. */
export const HMAC_PREFIX = 'hmac-sha256:';

/**
 * Field names whose values are HMAC'd wherever they appear in request or response data (case-insensitive).
 * The whole value under such a key is replaced leaf by leaf (object keys stay readable).
 * Deliberately NOT here: `accessor` (lets operators correlate; it cannot be used as a token), `ciphertext`
 * (protected by the key it names), `path`, `policies`, `display_name`, request ids, key names and versions.
 * An engine adds its own names through `Engine.sensitiveFields`; `*` HMACs every leaf of that entry's data
 * (for engines whose whole payload is secret, e.g. KV v1).
 */
export const DEFAULT_SENSITIVE_FIELDS: readonly string[] = Object.freeze([
  // tokens and login material
  'token',
  'client_token',
  'root_token',
  'wrapped_token',
  'wrapping_token',
  // a pending MFA login's id is a bearer for 5 minutes (with a code): whichever auth method held it
  'mfa_request_id',
  'jwt',
  'token_reviewer_jwt',
  'secret_id',
  'password',
  'passphrase',
  'pin',
  'otp',
  'client_secret',
  'api_key',
  // key material (sys/init, sys/unseal, transit export/backup, pki)
  'key',
  'keys',
  'keys_base64',
  'recovery_keys',
  'recovery_keys_base64',
  'unseal_keys',
  'shares',
  'private_key',
  'secret_key',
  'hmac_key',
  'key_material',
  'root_key',
  'backup',
  // secret values
  'plaintext',
  'input',
  'data',
  'secret',
  'value',
  'values',
  'credentials',
]);

/** `hmac-sha256:<hex>` of `value` under the audit HMAC key (what `sys/audit-hash` returns). */
export function auditHmac(key: Uint8Array, value: string): string {
  return HMAC_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** Depth beyond which a subtree is HMAC'd whole, so hostile nesting cannot exhaust the stack. */
const MAX_DEPTH = 64;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** HMACs every string and number leaf; keeps booleans, null and object keys. */
function hashAll(value: unknown, key: Uint8Array, depth: number): unknown {
  if (typeof value === 'string') return auditHmac(key, value);
  if (typeof value === 'number' || typeof value === 'bigint') return auditHmac(key, String(value));
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (depth > MAX_DEPTH) return auditHmac(key, safeJson(value));
  if (Array.isArray(value)) return value.map((v) => hashAll(v, key, depth + 1));
  if (value instanceof Uint8Array) return auditHmac(key, Buffer.from(value).toString('base64'));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hashAll(v, key, depth + 1);
    return out;
  }
  return auditHmac(key, String(value));
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return String(v);
  }
}

function walk(value: unknown, key: Uint8Array, sensitive: ReadonlySet<string>, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return auditHmac(key, safeJson(value));
  if (Array.isArray(value)) return value.map((v) => walk(v, key, sensitive, depth + 1));
  if (value instanceof Uint8Array) return auditHmac(key, Buffer.from(value).toString('base64'));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = sensitive.has(k.toLowerCase()) ? hashAll(v, key, depth + 1) : walk(v, key, sensitive, depth + 1);
  }
  return out;
}

/**
 * Returns a copy of `value` with the values of sensitive fields replaced by their HMAC.
 * `sensitiveFields` are matched case-insensitively; if it contains `*`, every leaf is HMAC'd.
 * PURE: the input is not modified.
 */
export function redact(value: unknown, key: Uint8Array, sensitiveFields: Iterable<string>): unknown {
  const set = new Set<string>();
  for (const f of sensitiveFields) set.add(f.toLowerCase());
  if (set.has('*')) return hashAll(value, key, 0);
  return walk(value, key, set, 0);
}
