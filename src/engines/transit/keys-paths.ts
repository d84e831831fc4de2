/** `keys/`, `keys/:name`, `keys/:name/rotate`, `keys/:name/config` (Vault's path_keys.go, path_config.go). */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import type { KeyType } from '../../keys/index.ts';
import { formatDuration, MAX_DURATION } from '../../units/index.ts';
import { ignoredFieldsWarning, MAX_INT, outOfRange, vBool, vDuration, vIntIn } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import { createKey, deleteKey, rotateKey } from './key-lifecycle.ts';
import { describePolicy, type KeyPolicy } from './policy.ts';
import { checkName, invalid, parseBody } from './request.ts';
import type { TransitState } from './state.ts';

const HOUR = 3600;
/** Key types Vault knows that Arca does not offer: named so the error can say so instead of "unknown". */
const VAULT_ONLY_TYPES = new Set([
  'aes128-gcm96', 'chacha20-poly1305', 'xchacha20-poly1305', 'ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521',
  'rsa-2048', 'rsa-3072', 'rsa-4096', 'hmac', 'managed_key', 'aes128-cmac', 'aes256-cmac',
]);

const createSchema = z.object({
  type: z.string().optional(),
  derived: vBool.optional(),
  convergent_encryption: vBool.optional(),
  exportable: vBool.optional(),
  allow_plaintext_backup: vBool.optional(),
  auto_rotate_period: vDuration.optional(),
});

const configSchema = z.object({
  min_decryption_version: vIntIn(0, MAX_INT).optional(),
  min_encryption_version: vIntIn(0, MAX_INT).optional(),
  deletion_allowed: vBool.optional(),
  exportable: vBool.optional(),
  allow_plaintext_backup: vBool.optional(),
  auto_rotate_period: vDuration.optional(),
});

export function parseKeyType(t: string | undefined, hasHsm: boolean): KeyType {
  const type = t === undefined || t === '' ? 'aes256-gcm96' : t;
  if (type === 'aes256-gcm96') return type;
  if (type === 'hsm-aes256-gcm96') {
    if (!hasHsm) throw invalid('key type hsm-aes256-gcm96 needs an HSM, but the server has no HSM key backend configured');
    return type;
  }
  if (VAULT_ONLY_TYPES.has(type)) throw invalid('this key type is not supported: use aes256-gcm96 or hsm-aes256-gcm96');
  throw invalid('unknown key type: use aes256-gcm96 or hsm-aes256-gcm96');
}

/** Vault: 0 disables scheduled rotation, else at least an hour; the ceiling is Go's longest duration. */
export function checkRotatePeriod(seconds: number): number {
  if (seconds !== 0 && seconds < HOUR) {
    throw outOfRange('auto_rotate_period', `must be 0 (disabled) or between ${formatDuration(HOUR)} and ${formatDuration(MAX_DURATION.s)}`);
  }
  return seconds;
}


function refuseExport(b: { exportable?: boolean | undefined; allow_plaintext_backup?: boolean | undefined }): void {
  if (b.exportable) throw invalid('keys are never exportable: Arca does not release transit key material');
  if (b.allow_plaintext_backup) throw invalid('plaintext backups are not supported: Arca does not release transit key material');
}

function keyBody(p: KeyPolicy, warnings?: string[]): EngineResponse {
  return { data: describePolicy(p), ...(warnings?.length ? { warnings } : {}) };
}

export async function writeKey(s: TransitState, req: EngineRequest, rawName: string): Promise<EngineResponse> {
  const name = checkName(rawName);
  const b = parseBody(createSchema, req.data);
  const derived = b.derived ?? false;
  if (b.convergent_encryption) {
    if (!derived) throw invalid('convergent encryption requires derivation to be enabled');
    throw invalid('convergent encryption is not supported: create the key without convergent_encryption');
  }
  refuseExport(b);
  const type = parseKeyType(b.type, s.ops.hasHsm());
  const autoRotatePeriod = checkRotatePeriod(b.auto_rotate_period ?? 0);
  const { policy, existed } = await createKey(s, name, { type, derived, autoRotatePeriod });
  // Vault's warning: `deletion_allowed` and `min_*_version` belong to keys/<name>/config, not here.
  const warnings = ignoredFieldsWarning(createSchema, req.data);
  if (existed) warnings.push(`key ${name} already existed`);
  return keyBody(policy, warnings);
}

export async function readKey(s: TransitState, rawName: string): Promise<EngineResponse> {
  const p = await s.store.get(checkName(rawName));
  // Vault: a missing key is a 404 with an empty error list.
  if (!p) throw new ArcaError('ERR_NOT_FOUND', '');
  return keyBody(p);
}

export async function listKeys(s: TransitState): Promise<EngineResponse> {
  const keys = await s.store.list();
  if (keys.length === 0) throw new ArcaError('ERR_NOT_FOUND', '');
  return { data: { keys } };
}

export async function removeKey(s: TransitState, rawName: string): Promise<undefined> {
  await deleteKey(s, checkName(rawName));
  return undefined;
}

export async function rotate(s: TransitState, rawName: string): Promise<EngineResponse> {
  return keyBody(await rotateKey(s, checkName(rawName)));
}

export async function configureKey(s: TransitState, req: EngineRequest, rawName: string): Promise<EngineResponse> {
  const name = checkName(rawName);
  const b = parseBody(configSchema, req.data);
  refuseExport(b);
  return s.store.withLock(name, async () => {
    const p = await s.store.get(name, true);
    if (!p) throw new ArcaError('ERR_TRANSIT_KEY_NOT_FOUND', 'no existing key by this name could be found');
    const warnings: string[] = [];
    let minDec = p.minDecryptionVersion;
    let minEnc = p.minEncryptionVersion;
    if (b.min_decryption_version !== undefined) {
      minDec = b.min_decryption_version;
      if (minDec === 0) {
        minDec = 1;
        warnings.push('since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1');
      }
      if (minDec > p.latestVersion) throw outOfRange('min_decryption_version', `must be between 0 and the latest key version (${p.latestVersion})`);
    }
    if (b.min_encryption_version !== undefined) {
      minEnc = b.min_encryption_version;
      if (minEnc > p.latestVersion) throw outOfRange('min_encryption_version', `must be between 0 and the latest key version (${p.latestVersion})`);
    }
    if (minEnc > 0 && minEnc < minDec) {
      throw invalid('min_decryption_version must be less than or equal to min_encryption_version');
    }
    const next: KeyPolicy = {
      ...p,
      minDecryptionVersion: minDec,
      minEncryptionVersion: minEnc,
      deletionAllowed: b.deletion_allowed ?? p.deletionAllowed,
      autoRotatePeriod: b.auto_rotate_period === undefined ? p.autoRotatePeriod : checkRotatePeriod(b.auto_rotate_period),
    };
    await s.store.put(next, p);
    warnings.push(...ignoredFieldsWarning(configSchema, req.data));
    return keyBody(next, warnings);
  });
}
