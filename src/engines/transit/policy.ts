/**
 * A transit key ("policy" in Vault's vocabulary): its settings and versions. Stored as JSON at
 * `policy/<name>` inside the mount's barrier view, so a software version's key bytes are only ever
 * written encrypted; an HSM version stores only the PKCS#11 CKA_ID of a non-extractable object.
 * Policies are immutable values: every change builds a new one (the key store caches them).
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import type { KeyType } from '../../keys/index.ts';
import { MAX_DURATION } from '../../units/index.ts';

export const KEY_TYPES: readonly KeyType[] = ['aes256-gcm96', 'hsm-aes256-gcm96'];

export interface KeyVersion {
  /** Stable, never-reused id (UUID) given to backend.createVersion; the KMS plugin's key_id. */
  readonly id: string;
  /** Unix milliseconds. */
  readonly createdMs: number;
  /** Backend reference: raw key (software) or CKA_ID (HSM). */
  readonly ref: Uint8Array;
  /**
   * Software keys: the version's HMAC key (32 random bytes, Vault's `HMACKey`), separate from the
   * encryption key. Absent on HSM versions, and on versions made before Arca served `hmac/` (the
   * latest one gets it on first use, as Vault's policy upgrade does).
   */
  readonly hmacKey?: Uint8Array | undefined;
}

export interface KeyPolicy {
  readonly name: string;
  readonly type: KeyType;
  readonly derived: boolean;
  readonly deletionAllowed: boolean;
  readonly minDecryptionVersion: number;
  /** 0 = always the latest. */
  readonly minEncryptionVersion: number;
  readonly latestVersion: number;
  /** Seconds; 0 = no scheduled rotation. */
  readonly autoRotatePeriod: number;
  readonly versions: Readonly<Record<string, KeyVersion>>;
}

const storedVersion = z.object({ id: z.string().uuid(), createdMs: z.number().int(), ref: z.string(), hmacKey: z.string().optional() });
const storedPolicy = z.object({
  v: z.literal(1),
  name: z.string(),
  type: z.enum(['aes256-gcm96', 'hsm-aes256-gcm96']),
  derived: z.boolean(),
  deletionAllowed: z.boolean(),
  minDecryptionVersion: z.number().int(),
  minEncryptionVersion: z.number().int(),
  latestVersion: z.number().int(),
  // Not refused when out of range (see decodePolicy): clamped so an old record stays usable.
  autoRotatePeriod: z.number(),
  versions: z.record(z.string(), storedVersion),
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export function encodePolicy(p: KeyPolicy): Uint8Array {
  const versions: Record<string, z.input<typeof storedVersion>> = {};
  for (const [n, v] of Object.entries(p.versions)) {
    versions[n] = { id: v.id, createdMs: v.createdMs, ref: b64(v.ref), ...(v.hmacKey ? { hmacKey: b64(v.hmacKey) } : {}) };
  }
  const rec: z.input<typeof storedPolicy> = { v: 1, ...p, versions };
  return new TextEncoder().encode(JSON.stringify(rec));
}

export function decodePolicy(bytes: Uint8Array): KeyPolicy {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ArcaError('ERR_INTERNAL', 'internal error', { cause: err });
  }
  const r = storedPolicy.safeParse(json);
  if (!r.success) throw new ArcaError('ERR_INTERNAL', 'internal error', { cause: r.error });
  const { v: _v, versions, autoRotatePeriod, ...rest } = r.data;
  const out: Record<string, KeyVersion> = {};
  for (const [n, v] of Object.entries(versions)) {
    out[n] = { id: v.id, createdMs: v.createdMs, ref: unb64(v.ref), ...(v.hmacKey !== undefined ? { hmacKey: unb64(v.hmacKey) } : {}) };
  }
  return { ...rest, autoRotatePeriod: clampRotatePeriod(autoRotatePeriod), versions: out };
}

/**
 * Before the API range-checked auto_rotate_period a key could be stored with 1e20 s, which then
 * failed to load and made the key (and its ciphertexts) unusable. Such a value means "practically
 * never", so it loads as the longest period the API accepts.
 */
function clampRotatePeriod(s: number): number {
  return s > 0 ? Math.min(Math.trunc(s), MAX_DURATION.s) : 0;
}

/** The version fields of a key just created: one version, every version allowed. */
export const NEW_KEY_VERSIONS = { minDecryptionVersion: 1, minEncryptionVersion: 0, latestVersion: 1 } as const;

/** The version an encryption uses: the latest when the caller names none (0), else the one named, if allowed. */
export function encryptionVersion(p: Pick<KeyPolicy, 'latestVersion' | 'minEncryptionVersion' | 'minDecryptionVersion'>, requested: number): number {
  if (requested === 0) return p.latestVersion;
  if (requested > p.latestVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'requested version for encryption is higher than the latest key version');
  }
  if (requested < p.minEncryptionVersion || requested < p.minDecryptionVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'requested version for encryption is less than the minimum encryption key version');
  }
  return requested;
}

/** Checks a ciphertext's version against the key and returns that version's material. */
export function decryptionVersion(p: KeyPolicy, version: number): KeyVersion {
  if (version > p.latestVersion) throw new ArcaError('ERR_TRANSIT_CIPHERTEXT_MALFORMED', 'invalid ciphertext: version is too new');
  if (version < p.minDecryptionVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'ciphertext or signature version is disallowed by policy (too old)');
  }
  const v = p.versions[String(version)];
  if (!v) throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'ciphertext or signature version is disallowed by policy (too old)');
  return v;
}

/**
 * The version and HMAC key an `hmac/:name` request uses (Vault's path_hmac.go and Policy.HMACKey):
 * 0 = the latest; an older one only down to min_encryption_version.
 */
export function hmacKeyToSign(p: KeyPolicy, requested: number): { version: number; key: Uint8Array } {
  const version = requested === 0 ? p.latestVersion : requested;
  if (version !== p.latestVersion && p.minEncryptionVersion > 0 && version < p.minEncryptionVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'cannot generate HMAC: version is too old (disallowed by policy)');
  }
  return { version, key: hmacKeyOf(p, version) };
}

/** The HMAC key that checks a `vault:v<version>:` HMAC (Vault's pathHMACVerify): down to min_decryption_version. */
export function hmacKeyToVerify(p: KeyPolicy, version: number): Uint8Array {
  if (version > p.latestVersion) throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'invalid HMAC: version is too new');
  if (p.minDecryptionVersion > 0 && version < p.minDecryptionVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'cannot verify HMAC: version is too old (disallowed by policy)');
  }
  return hmacKeyOf(p, version);
}

function hmacKeyOf(p: KeyPolicy, version: number): Uint8Array {
  if (version > p.latestVersion) {
    throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', `key version does not exist; latest key version is ${p.latestVersion}`);
  }
  const key = p.versions[String(version)]?.hmacKey;
  if (!key) throw new ArcaError('ERR_TRANSIT_VERSION_DISALLOWED', 'no HMAC key exists for that key version');
  return key;
}

/** Vault's key read body (`formatKeyPolicy`), plus Arca's `version_ids`. Never any key material. */
export function describePolicy(p: KeyPolicy): Record<string, unknown> {
  const keys: Record<string, number> = {};
  const ids: Record<string, string> = {};
  for (const [n, v] of Object.entries(p.versions)) {
    keys[n] = Math.floor(v.createdMs / 1000);
    ids[n] = v.id;
  }
  return {
    name: p.name,
    type: p.type,
    derived: p.derived,
    ...(p.derived ? { kdf: p.type === 'aes256-gcm96' ? 'hkdf_sha256' : 'context_aad', convergent_encryption: false } : {}),
    deletion_allowed: p.deletionAllowed,
    exportable: false,
    allow_plaintext_backup: false,
    keys,
    latest_version: p.latestVersion,
    min_available_version: 0,
    min_decryption_version: p.minDecryptionVersion,
    min_encryption_version: p.minEncryptionVersion,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    supports_signing: false,
    auto_rotate_period: p.autoRotatePeriod,
    imported_key: false,
    version_ids: ids,
  };
}
