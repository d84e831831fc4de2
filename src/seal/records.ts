/**
 * The seal's records live in raw storage under `core/` because they must be readable before unseal.
 * None of them is secret: the seal config holds share parameters and share fingerprints (HMACs of
 * uniformly random shares), the root-key blob is ciphertext under the unseal key or the HSM key.
 */
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import type { Storage } from '../storage/index.ts';

/** Seal parameters and share fingerprints (JSON, plaintext by design). */
export const SEAL_CONFIG_PATH = 'core/seal-config';
/** The root key, encrypted by the seal (Shamir unseal key or HSM wrapping key). */
export const ROOT_KEY_PATH = 'core/root-key';

const ShareSet = z.object({
  shares: z.number().int(),
  threshold: z.number().int(),
  salt: z.string(),
  fingerprints: z.array(z.string()),
});
export type ShareSet = z.infer<typeof ShareSet>;

export const SealRecord = z.object({
  v: z.literal(1),
  type: z.enum(['shamir', 'pkcs11']),
  initId: z.string(),
  createdAt: z.number(),
  /** Shamir: the unseal shares. PKCS#11: absent. */
  unseal: ShareSet.optional(),
  /** PKCS#11: recovery shares (authorise recovery operations; they do not unseal). */
  recovery: ShareSet.optional(),
  /**
   * PKCS#11: HMAC-SHA256 under the recovery key of `arca/recovery-key/v1/<initId>` (base64), so a
   * quorum's combined recovery key is checked against the current one (records before it: absent).
   */
  recoveryCheck: z.string().optional(),
  pkcs11: z.object({ keyLabel: z.string() }).optional(),
});
export type SealRecord = z.infer<typeof SealRecord>;

export async function readSealRecord(raw: Storage): Promise<SealRecord | undefined> {
  const b = await raw.get(SEAL_CONFIG_PATH);
  return b ? parseSealRecord(b) : undefined;
}

/** The seal record in stored bytes (readSealRecord, or a caller that needs the bytes too). */
export function parseSealRecord(b: Uint8Array): SealRecord {
  const r = SealRecord.safeParse(JSON.parse(new TextDecoder().decode(b)));
  if (!r.success) throw new ArcaError('ERR_INTERNAL', 'seal configuration in storage is corrupt', { expose: false });
  return r.data;
}

export function encodeSealRecord(r: SealRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r));
}
