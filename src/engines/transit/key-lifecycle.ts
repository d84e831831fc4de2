/**
 * Creating, rotating and deleting key versions. Each version gets a fresh UUID that is never reused
 * (the KMS plugin uses it as key_id); the backend turns it into material and returns the reference
 * persisted in the policy.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { KeyType } from '../../keys/index.ts';
import { bytesEqual } from '../../storage/index.ts';
import { type KeyPolicy, type KeyVersion, NEW_KEY_VERSIONS } from './policy.ts';
import type { KeyStore } from './key-store.ts';
import type { TransitState } from './state.ts';

export interface NewKeyOptions {
  type: KeyType;
  derived: boolean;
  autoRotatePeriod: number;
}

/** Bytes of a software version's HMAC key (Vault: 32 random bytes per version, beside the encryption key). */
const HMAC_KEY_BYTES = 32;

async function newVersion(s: TransitState, type: KeyType): Promise<KeyVersion> {
  const id = randomUUID();
  const ref = await s.ops.backendFor(type).createVersion(id);
  // An HSM version's material stays in the HSM: no HMAC key is kept beside it (hmac/ refuses such keys).
  return { id, createdMs: s.now(), ref, ...(type === 'aes256-gcm96' ? { hmacKey: new Uint8Array(randomBytes(HMAC_KEY_BYTES)) } : {}) };
}

/** Saves `next` (made from `from`); if that fails, destroys the just-created version so no orphan material is left. */
async function saveWithNewVersion(s: TransitState, next: KeyPolicy, from: KeyPolicy | undefined, v: KeyVersion): Promise<void> {
  try {
    await s.store.put(next, from);
  } catch (err) {
    await s.ops
      .backendFor(next.type)
      .destroyVersion(v.ref)
      .catch((e: unknown) => s.log.warn({ err: e, versionId: v.id }, 'could not destroy orphaned key version'));
    throw err;
  }
}

/** Creates key `name` unless it exists. Returns the key and whether it already existed. */
export async function createKey(s: TransitState, name: string, o: NewKeyOptions): Promise<{ policy: KeyPolicy; existed: boolean }> {
  return s.store.withLock(name, async () => {
    const existing = await s.store.get(name, true);
    if (existing) return { policy: existing, existed: true };
    const v = await newVersion(s, o.type);
    const policy: KeyPolicy = {
      name,
      type: o.type,
      derived: o.derived,
      deletionAllowed: false,
      ...NEW_KEY_VERSIONS,
      autoRotatePeriod: o.autoRotatePeriod,
      versions: { '1': v },
    };
    try {
      await saveWithNewVersion(s, policy, undefined, v);
    } catch (err) {
      // Another engine instance made the key meanwhile: it exists, as it would had it been first.
      const made = isArcaError(err, 'ERR_STORAGE_CONFLICT') ? await s.store.get(name, true) : undefined;
      if (made) return { policy: made, existed: true };
      throw err;
    }
    s.log.info({ key: name, type: o.type, versionId: v.id }, 'transit key created');
    return { policy, existed: false };
  });
}

/** Adds a version and makes it the latest. `onlyIfDue` (scheduled rotation) re-checks under the lock. */
export async function rotateKey(s: TransitState, name: string, onlyIfDue?: (p: KeyPolicy) => boolean): Promise<KeyPolicy> {
  return s.store.withLock(name, async () => {
    const p = await s.store.get(name, true);
    if (!p) throw new ArcaError('ERR_TRANSIT_KEY_NOT_FOUND', 'key not found');
    if (onlyIfDue && !onlyIfDue(p)) return p;
    const v = await newVersion(s, p.type);
    const latest = p.latestVersion + 1;
    const next: KeyPolicy = { ...p, latestVersion: latest, versions: { ...p.versions, [String(latest)]: v } };
    await saveWithNewVersion(s, next, p, v);
    s.log.info({ key: name, version: latest, versionId: v.id }, 'transit key rotated');
    return next;
  });
}

/**
 * Vault's policy upgrade for HMAC: a software key whose latest version was made before Arca served
 * `hmac/` gets that version's HMAC key on first use, stored once under the key's lock. Older versions
 * stay without one ("no HMAC key exists for that key version"), as in Vault.
 */
export async function withLatestHmacKey(s: TransitState, p: KeyPolicy): Promise<KeyPolicy> {
  if (p.type !== 'aes256-gcm96' || p.versions[String(p.latestVersion)]?.hmacKey) return p;
  return s.store.withLock(p.name, async () => {
    const cur = await s.store.get(p.name, true);
    if (!cur) throw new ArcaError('ERR_TRANSIT_KEY_NOT_FOUND', 'encryption key not found');
    const latest = String(cur.latestVersion);
    const v = cur.versions[latest];
    if (!v || v.hmacKey) return cur;
    const next: KeyPolicy = { ...cur, versions: { ...cur.versions, [latest]: { ...v, hmacKey: new Uint8Array(randomBytes(HMAC_KEY_BYTES)) } } };
    await s.store.put(next, cur);
    s.log.info({ key: p.name, version: cur.latestVersion }, 'transit key upgraded: HMAC key added to its latest version');
    return next;
  });
}

/** Whether scheduled rotation is due: the latest version is older than auto_rotate_period. */
export function rotationDue(p: KeyPolicy, nowMs: number): boolean {
  if (p.autoRotatePeriod <= 0) return false;
  const latest = p.versions[String(p.latestVersion)];
  return latest !== undefined && nowMs - latest.createdMs >= p.autoRotatePeriod * 1000;
}

export async function deleteKey(s: TransitState, name: string): Promise<void> {
  await s.store.withLock(name, async () => {
    const p = await s.store.get(name, true);
    if (!p) throw new ArcaError('ERR_TRANSIT_KEY_NOT_FOUND', 'could not delete key; not found');
    if (!p.deletionAllowed) {
      throw new ArcaError('ERR_TRANSIT_DELETION_DISALLOWED', 'error deleting key: deletion is not allowed for this key');
    }
    const backend = s.ops.backendFor(p.type);
    // Forget the key first: a half-finished delete leaves orphaned HSM objects, never a key whose
    // versions point at destroyed material.
    await s.store.delete(name, p);
    for (const v of Object.values(p.versions)) {
      // A copy: the software backend wipes the ref in place, and a request already holding this
      // policy must fail or finish with the real key, never encrypt under a zeroed one.
      await backend.destroyVersion(new Uint8Array(v.ref)).catch((err: unknown) => s.log.warn({ err, key: name, versionId: v.id }, 'could not destroy key version'));
    }
    s.log.info({ key: name }, 'transit key deleted');
  });
}

/**
 * What `now` holds that `then` (a snapshot's copy of the mount) lacks: key versions, by version id
 * (keys created and versions added since), and HMAC keys a version got since (the latest version's
 * upgrade: HMACs made with it would no longer verify). One line per key, names and numbers only.
 */
export async function versionsLost(now: KeyStore, then: KeyStore): Promise<string[]> {
  const out: string[] = [];
  for (const name of await now.list()) {
    const cur = await now.get(name, true);
    if (!cur) continue;
    const old = await then.get(name, true);
    if (!old) {
      out.push(`key "${name}": every version (the snapshot does not have the key)`);
      continue;
    }
    const before = new Map(Object.values(old.versions).map((v) => [v.id, v]));
    const lost: number[] = [];
    const hmacLost: number[] = [];
    for (const [n, v] of Object.entries(cur.versions)) {
      const was = before.get(v.id);
      if (!was) lost.push(Number(n));
      else if (v.hmacKey && !bytesEqual(was.hmacKey, v.hmacKey)) hmacLost.push(Number(n));
    }
    const list = (ns: number[]) => `${ns.length > 1 ? 's' : ''} ${ns.sort((a, b) => a - b).join(', ')}`;
    const parts = [...(lost.length ? [`version${list(lost)}`] : []), ...(hmacLost.length ? [`the HMAC key of version${list(hmacLost)}`] : [])];
    if (parts.length) out.push(`key "${name}": ${parts.join(' and ')}`);
  }
  return out;
}
