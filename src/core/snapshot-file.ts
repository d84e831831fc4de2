/**
 * The snapshot file (what `sys/storage/snapshot` saves and restores): gzip'd JSON,
 * `{format, created, init_id, storage, digest, sealed_digest, entries: [[key, base64], …]}`, every
 * entry as the backend stores it. `digest` is the SHA-256 of the entries; `sealed_digest` is that
 * digest sealed by the barrier under a path naming the header (digestPath), so only the server that
 * wrote the file can make one that matches. PURE but for the compression, which runs off the event loop.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { z } from 'zod';
import { KEYRING_PATH, type Barrier } from '../barrier/index.ts';
import { decodeB64Strict, toB64 } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { parseSealRecord, ROOT_KEY_PATH, SEAL_CONFIG_PATH } from '../seal/index.ts';
import { bytesEqual, compareCodeUnits, validateKey } from '../storage/index.ts';

export const SNAPSHOT_FORMAT = 'arca-snapshot/v1';
/**
 * How large a snapshot may be once decompressed (a small file must not inflate without end): about
 * 90 MiB of stored ciphertext, base64 and JSON adding a third.
 */
export const MAX_SNAPSHOT_BYTES = 128 * 1024 * 1024;
/**
 * How many entries a snapshot may hold. Counted in the text before it is parsed: parsing costs per
 * entry, and a file of tiny entries would otherwise hold the event loop and the heap for long.
 */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000;
/** Entries decoded between two turns of the event loop. */
const PARSE_BATCH = 20_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const inflate = promisify(gunzip);
const deflate = promisify(gzip);

/** The header (the entries are checked by hand, in batches: see parseSnapshot). */
const SnapshotDoc = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  created: z.string().max(64),
  init_id: z.string().max(128),
  storage: z.string().max(32),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  sealed_digest: z.string().max(1024),
  entries: z.array(z.unknown()),
});

/** A parsed snapshot: its header and entries, decoded and checked. */
export interface Snapshot {
  initId: string;
  /** When it was taken (authenticated by the sealed digest's path). */
  created: string;
  entries: Map<string, Uint8Array>;
  /** SHA-256 of the entries (checked against the file's `digest`). */
  digest: Buffer;
  /** The barrier-sealed digest, and the path it was sealed under (checked by the running server). */
  sealed: { path: string; value: Uint8Array };
}

/** SHA-256 over the entries in key order, each as u32be(len) ‖ key ‖ u32be(len) ‖ value (the file's `digest`). */
export function digestOf(entries: Iterable<readonly [string, Uint8Array]>): Buffer {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const [k, v] of [...entries].sort(([a], [b]) => compareCodeUnits(a, b))) {
    const key = Buffer.from(k, 'utf8');
    len.writeUInt32BE(key.length);
    h.update(len).update(key);
    len.writeUInt32BE(v.length);
    h.update(len).update(v);
  }
  return h.digest();
}

/** The barrier path the digest is sealed under: the header travels with it. */
export const digestPath = (initId: string, created: string, storage: string) => `arca-snapshot/v1/${initId}/${created}/${storage}`;

/** The file for `entries`, read at `created` (Unix ms) from a store of `storage` type; `seal` is Barrier.encrypt. */
export async function encodeSnapshot(entries: readonly (readonly [string, Uint8Array])[], created: number, storage: string, seal: Barrier['encrypt']): Promise<Buffer> {
  const conf = entries.find(([k]) => k === SEAL_CONFIG_PATH);
  if (!conf) throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
  const at = new Date(created).toISOString();
  const initId = parseSealRecord(conf[1]).initId;
  const digest = digestOf(entries);
  const doc: z.input<typeof SnapshotDoc> = {
    format: SNAPSHOT_FORMAT,
    created: at,
    init_id: initId,
    storage,
    digest: digest.toString('hex'),
    sealed_digest: toB64(seal(digestPath(initId, at, storage), digest)),
    entries: entries.map(([k, v]) => [k, toB64(v)]),
  };
  return deflate(JSON.stringify(doc));
}

export function notASnapshot(why: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', `not an Arca snapshot (${why}): send the base64 of a file saved from sys/storage/snapshot`, { details: { field: 'snapshot' } });
}

/**
 * Reads a snapshot file; anything else is a 400 that says what is wrong, never what it holds. Checks
 * what the store would otherwise refuse later (keys, duplicates, the seal records' presence and form).
 */
export async function parseSnapshot(file: Uint8Array, maxBytes = MAX_SNAPSHOT_BYTES): Promise<Snapshot> {
  let text: string;
  try {
    // Off the event loop: a large snapshot must not stall requests (or an HA lease) while it inflates.
    text = (await inflate(file, { maxOutputLength: maxBytes })).toString('utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw notASnapshot(`larger than ${maxBytes / 1024 / 1024} MiB once decompressed`);
    throw notASnapshot('not gzip data, or truncated');
  }
  // Every entry opens with `[` (base64 has none, whitespace or not): a bound on the count, before parsing.
  let brackets = 0;
  for (let at = text.indexOf('['); at >= 0; at = text.indexOf('[', at + 1)) {
    if (++brackets > MAX_SNAPSHOT_ENTRIES + 1) throw notASnapshot(`more than ${MAX_SNAPSHOT_ENTRIES} entries`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notASnapshot('not JSON inside');
  }
  const r = SnapshotDoc.safeParse(json);
  if (!r.success) throw notASnapshot(r.error.issues[0]?.path[0] === 'format' ? `format is not ${SNAPSHOT_FORMAT}` : 'fields missing or malformed');
  if (r.data.entries.length > MAX_SNAPSHOT_ENTRIES) throw notASnapshot(`more than ${MAX_SNAPSHOT_ENTRIES} entries`);
  const entries = new Map<string, Uint8Array>();
  for (const [i, e] of r.data.entries.entries()) {
    if (i % PARSE_BATCH === PARSE_BATCH - 1) await nextTurn();
    const pair = Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string' ? (e as [string, string]) : undefined;
    const value = pair && decodeB64Strict(pair[1]);
    if (!pair || !value) throw notASnapshot('fields missing or malformed');
    const k = pair[0];
    try {
      validateKey(k);
    } catch {
      throw notASnapshot('an entry has an invalid storage key');
    }
    if (entries.has(k)) throw notASnapshot('an entry key appears twice');
    entries.set(k, value);
  }
  const seal = entries.get(SEAL_CONFIG_PATH);
  if (!seal || !entries.has(KEYRING_PATH) || !entries.has(ROOT_KEY_PATH)) throw notASnapshot('its seal records are missing');
  let initId: string;
  try {
    initId = parseSealRecord(seal).initId;
  } catch {
    throw notASnapshot('its seal configuration is malformed');
  }
  if (initId !== r.data.init_id) throw notASnapshot('its header and seal configuration disagree');
  const digest = digestOf(entries);
  if (digest.toString('hex') !== r.data.digest) throw notASnapshot('its entries do not match its digest: corrupted or altered');
  const sealed = decodeB64Strict(r.data.sealed_digest);
  if (!sealed) throw notASnapshot('fields missing or malformed');
  return { initId, created: r.data.created, entries, digest, sealed: { path: digestPath(initId, r.data.created, r.data.storage), value: sealed } };
}

/** Whether `sealed` opens with this barrier to exactly `digest`. */
export function sealedDigestMatches(b: Barrier, sealed: Snapshot['sealed'], digest: Buffer): boolean {
  try {
    return bytesEqual(b.decrypt(sealed.path, sealed.value), digest);
  } catch {
    return false;
  }
}
