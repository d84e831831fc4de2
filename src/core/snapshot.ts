/**
 * `sys/storage/snapshot`: an online, consistent copy of the whole store (GET, sudo), and its restore
 * (POST, sudo) — what `vault operator raft snapshot save|restore` gives Vault's integrated storage,
 * for every Arca backend (SQLite can be copied only while the server is stopped: it holds the file
 * with an exclusive lock).
 *
 * The file (snapshot-file.ts) holds every entry as the backend stores it — barrier ciphertext, plus
 * the seal records under `core/` — with its digest sealed by the barrier, so a restore into the
 * running server knows the file is one it wrote, whole: no entry dropped, swapped or added. It is as
 * sensitive as the database file and as useless without the unseal keys (or the HSM).
 *
 * Restore takes back everything but this server's seal records (so the current unseal keys, after
 * any rekey, keep working) and its audit configuration (see KEPT_PREFIXES). It refuses a snapshot of
 * another initialization, or one whose barrier keyring is not covered by the current one (keyring.ts:
 * rotations only add terms). It refuses, unless forced, a snapshot that would drop what cannot be made again (Engine.restoreLosses:
 * transit key versions created since, which data may be encrypted under — the etcd KEK among them).
 * The store is replaced in one commit (entries not in the snapshot are deleted), conditioned on the
 * keyring and seal records not changing meanwhile; then the core reloads every cache and engine.
 * Writes that land while the restore runs may survive it: quiesce clients first, as with Vault.
 */
import { z } from 'zod';
import { KEYRING_PATH, SEAL_KEYS_PREFIX, type Barrier } from '../barrier/index.ts';
import { decodeB64Strict, toB64 } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { parseFields, vBool } from '../engines/index.ts';
import { parseSealRecord, SEAL_CONFIG_PATH } from '../seal/index.ts';
import { bytesEqual, InmemStorage, type Storage } from '../storage/index.ts';
import { AUDIT_CONFIG_PREFIX } from './builtin/audit.ts';
import type { CoreRoutes } from './core-routes.ts';
import { digestOf, encodeSnapshot, notASnapshot, parseSnapshot, sealedDigestMatches } from './snapshot-file.ts';

/**
 * What a restore keeps as it is: the seal's records (saved, the keyring checked, never restored), and
 * the audit configuration — devices and keys (raw keys = barrier paths): a restore never turns off
 * an audit device enabled since the snapshot, and the running devices stay those in storage.
 */
const KEPT_PREFIXES = [SEAL_KEYS_PREFIX, AUDIT_CONFIG_PREFIX];
const kept = (key: string) => KEPT_PREFIXES.some((p) => key.startsWith(p));

const RestoreFields = z.object({ snapshot: z.string().min(1, 'snapshot is required: the base64 of a file saved from sys/storage/snapshot'), force: vBool.optional() });

export interface SnapshotDeps {
  raw: Storage;
  barrier: Barrier;
  storageType: string;
  now: () => number;
  /** Drops caches and engines and reads everything again (Core.reload). */
  reload: () => Promise<void>;
  /** What restoring would lose for good, per mounted engine (Engine.restoreLosses), reading the snapshot through `incoming`. */
  lossesOf: (incoming: Barrier) => Promise<LossReport>;
  /** Seals the server (Core.sealNow). */
  seal: () => Promise<void>;
}

export interface LossReport {
  /** One line per loss, prefixed with its mount. */
  lines: string[];
  /** The storage prefixes the check read (the mounts whose engines check): they must not change before the commit. */
  prefixes: string[];
}

export interface RestoreResult {
  /** When the restored snapshot was taken: any snapshot this server wrote can be restored, the oldest too. */
  snapshot_created: string;
  /** Entries written (new or changed), removed (not in the snapshot), and already as in the snapshot. */
  written: number;
  removed: number;
  unchanged: number;
  /** What a forced restore dropped (Engine.restoreLosses), one line each. */
  lost: string[];
}

function entriesOf(raw: Storage): Promise<[string, Uint8Array][]> {
  if (!raw.snapshot) throw new ArcaError('ERR_INVALID_REQUEST', 'this storage backend cannot take a consistent snapshot');
  return raw.snapshot();
}

/** The store, as one snapshot file. */
export async function saveSnapshot(d: SnapshotDeps): Promise<{ bytes: Buffer; entries: number }> {
  const entries = await entriesOf(d.raw);
  return { bytes: await encodeSnapshot(entries, d.now(), d.storageType, (path, digest) => d.barrier.encrypt(path, digest)), entries: entries.length };
}

/** Replaces the store, but for KEPT_PREFIXES, with the snapshot's entries, in one commit, then reloads. */
export async function restoreSnapshot(d: SnapshotDeps, file: Uint8Array, force = false): Promise<RestoreResult> {
  const { initId, created, entries: wanted, digest, sealed } = await parseSnapshot(file);
  const current = new Map(await entriesOf(d.raw));
  const seal = current.get(SEAL_CONFIG_PATH);
  const ring = current.get(KEYRING_PATH);
  if (!seal || !ring) throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
  if (initId !== parseSealRecord(seal).initId) {
    throw new ArcaError('ERR_INVALID_REQUEST', "the snapshot is of another Arca initialization (its seal is not this server's): only this server's own snapshots can be restored");
  }
  if (!d.barrier.coversKeyring(wanted.get(KEYRING_PATH)!)) {
    throw new ArcaError('ERR_INVALID_REQUEST', "the snapshot's barrier keyring is not this server's: its data would not decrypt here; nothing was restored");
  }
  if (!sealedDigestMatches(d.barrier, sealed, digest)) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'the snapshot was not written whole by this server (its sealed digest does not match its entries): an entry was dropped, swapped or added; nothing was restored');
  }
  const { lines: lost, prefixes } = await lossesIn(d, wanted);
  if (lost.length > 0 && !force) {
    throw new ArcaError('ERR_INVALID_REQUEST', `restoring this snapshot would drop key versions made since it was taken, and whatever was encrypted with them could never be decrypted again: ${lost.join('; ')}. Nothing was restored; to restore anyway, send force=true (arca operator snapshot restore --force)`);
  }
  const puts: [string, Uint8Array][] = [];
  let unchanged = 0;
  for (const [k, v] of wanted) {
    if (kept(k)) continue;
    if (bytesEqual(current.get(k), v)) unchanged++;
    else puts.push([k, v]);
  }
  const deletes = [...current.keys()].filter((k) => !kept(k) && !wanted.has(k));
  // What the loss check read must still hold at the commit (a key rotated meanwhile is not dropped unseen).
  const checked = [...current].filter(([k]) => prefixes.some((p) => k.startsWith(p)));
  const ok = await d.raw.commit({ puts, deletes, expect: [[SEAL_CONFIG_PATH, seal], [KEYRING_PATH, ring], ...checked] });
  if (!ok) throw new ArcaError('ERR_STORAGE_CONFLICT', 'the seal, the barrier keyring or a transit key changed during the restore (a rekey, rotation or key write?); nothing was restored: try again');
  try {
    await d.reload();
  } catch (err) {
    // Never left half-started (unsealed with engines missing): sealed, the next unseal starts clean.
    await d.seal();
    throw new ArcaError('ERR_INTERNAL', 'the snapshot was restored, but reloading from it failed; the server sealed itself: unseal it to start from the restored store', { cause: err, expose: true });
  }
  return { snapshot_created: created, written: puts.length, removed: deletes.length, unchanged, lost };
}

/** Engine.restoreLosses of every mount, reading the snapshot's entries through a barrier with this keyring. */
async function lossesIn(d: SnapshotDeps, wanted: ReadonlyMap<string, Uint8Array>): Promise<LossReport> {
  const stage = new InmemStorage();
  await stage.commit({ puts: [...wanted].filter(([k]) => !kept(k)) });
  const incoming = d.barrier.over(stage);
  try {
    return await d.lossesOf(incoming);
  } finally {
    incoming.seal();
  }
}

/** Left by an offline restore: what the first unseal checks the store against (verifyRestored). */
export const RESTORE_CHECK_PATH = 'core/restore-check';
const RestoreCheck = z.object({ path: z.string(), sealed_digest: z.string(), digest: z.string() });

/**
 * Disaster recovery: writes a snapshot, seal records included, into an empty store (a new data dir
 * or database table, the server stopped), in one commit. The server started on it is then the
 * snapshot's: it unseals with the unseal keys of the snapshot's initialization (or its HSM key).
 * Without the keys the sealed digest cannot be checked here, so a record of it goes along, and the
 * first unseal checks it (verifyRestored) before anything is served.
 */
export async function restoreIntoEmpty(raw: Storage, file: Uint8Array): Promise<{ written: number; initId: string }> {
  const { initId, entries, digest, sealed } = await parseSnapshot(file);
  if ((await entriesOf(raw)).length > 0) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'the store is not empty: an offline restore writes only into an empty store (a new data dir or database table); to roll a running server back, restore through its API (arca operator snapshot restore FILE)');
  }
  const check: z.input<typeof RestoreCheck> = { path: sealed.path, sealed_digest: toB64(sealed.value), digest: digest.toString('hex') };
  const puts: [string, Uint8Array][] = [...entries, [RESTORE_CHECK_PATH, new TextEncoder().encode(JSON.stringify(check))]];
  if (!(await raw.commit({ puts, expect: [[SEAL_CONFIG_PATH, undefined]] }))) {
    throw new ArcaError('ERR_ALREADY_INITIALIZED', 'the store was initialized while the snapshot was being restored; nothing was written');
  }
  return { written: entries.size, initId };
}

/**
 * At the first unseal after an offline restore (the barrier just opened, nothing served yet): whether
 * the store is the snapshot its server sealed, whole. True when there is nothing to check; the record
 * is removed once the store passed.
 */
export async function verifyRestored(raw: Storage, barrier: Barrier): Promise<boolean> {
  const rec = await raw.get(RESTORE_CHECK_PATH);
  if (!rec) return true;
  let check: z.output<typeof RestoreCheck>;
  try {
    check = RestoreCheck.parse(JSON.parse(new TextDecoder().decode(rec)));
  } catch {
    return false;
  }
  const digest = digestOf((await entriesOf(raw)).filter(([k]) => k !== RESTORE_CHECK_PATH));
  if (digest.toString('hex') !== check.digest) return false;
  const value = decodeB64Strict(check.sealed_digest);
  if (!value || !sealedDigestMatches(barrier, { path: check.path, value }, digest)) return false;
  await raw.delete(RESTORE_CHECK_PATH);
  return true;
}

/** `sys/storage/snapshot`: GET saves, POST `{"snapshot": "<base64 of the file>"}` restores (both sudo). */
export function registerSnapshot(routes: CoreRoutes, d: SnapshotDeps): void {
  // One restore at a time: each computes its writes from the store it read, so two at once would
  // leave a mix of both snapshots (HA: restores run on the active replica only).
  let restoring = false;
  routes.set('sys/storage/snapshot', {
    local: false,
    // The restore request carries the whole store: its audit entry holds an HMAC of it, not the data.
    sensitive: ['snapshot'],
    handlers: {
      read: async () => {
        const s = await saveSnapshot(d);
        return { status: 200, raw: { contentType: 'application/gzip', body: s.bytes }, data: { entries: s.entries, bytes: s.bytes.length } };
      },
      update: async (req) => {
        const f = parseFields(RestoreFields, req.data);
        const file = decodeB64Strict(f.snapshot);
        if (!file) throw notASnapshot('the snapshot field is not base64');
        if (restoring) throw new ArcaError('ERR_STORAGE_CONFLICT', 'another snapshot restore is running; nothing was restored: wait for it, then check what it restored');
        restoring = true;
        try {
          const r = await restoreSnapshot(d, file, f.force ?? false);
          return { data: { ...r } };
        } finally {
          restoring = false;
        }
      },
    },
  });
}
