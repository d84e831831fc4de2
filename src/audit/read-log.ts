/**
 * Reading back a file audit device for operators (`sys/audit-log`): the most recent entries matching
 * a filter, and the verification status of the file's chain (verify.ts). Entries are returned as the
 * device wrote them — sensitive values stay HMAC'd; nothing here can or does reverse that.
 */
import { open } from 'node:fs/promises';
import { ArcaError } from '../errors/index.ts';
import { type VerifyStatus, verifyLog } from './verify.ts';

/** A file device's path option: `file_path` (Vault's name), or `path`. */
export function fileDevicePath(options: Readonly<Record<string, string>>): string | undefined {
  return options['file_path'] ?? options['path'];
}

/** Above this the file is not read whole: the entries come from its tail and the chain is not checked. */
export const AUDIT_READ_MAX_BYTES = 32 * 1024 * 1024;

export interface AuditLogFilter {
  /** Most recent entries to answer (1..1000). */
  limit: number;
  operation?: string | undefined;
  /** Entries whose request path starts with this. */
  pathPrefix?: string | undefined;
  type?: 'request' | 'response' | undefined;
  /** Only responses carrying an error (or a status ≥ 400). */
  errorsOnly?: boolean | undefined;
  /**
   * The id of the request reading the log: its own request entry is written after any checkpoint
   * (the read is audited before it runs), so a tail made only of it does not make the log unproven.
   */
  ownRequestId?: string | undefined;
}

export interface AuditVerification {
  /** `not_checked`: the file is larger than AUDIT_READ_MAX_BYTES (run `arca audit verify` on it). */
  status: VerifyStatus | 'not_checked';
  entries: number;
  checkpoints: number;
  first_seq?: number;
  last_seq?: number;
  /** For `unproven`: how many entries are after the last signed checkpoint. */
  unsigned_entries?: number;
  /** `verified` although the reading request's own entry follows the last checkpoint. */
  own_request_unsigned?: boolean;
  /** For `tampered`: the first problem (line number and why; never the line's content). */
  problem?: { line: number; seq?: number; reason: string };
  chain_restarts: number;
}

export interface AuditLogAnswer {
  entries: Record<string, unknown>[];
  /** True when `limit` entries were found: older matching entries may exist. */
  limit_reached: boolean;
  verification: AuditVerification;
}

type Entry = Record<string, unknown> & { type?: unknown; request?: { path?: unknown; operation?: unknown }; response?: { status?: unknown } | null; error?: unknown };

function matches(e: Entry, f: AuditLogFilter): boolean {
  if (e.type !== 'request' && e.type !== 'response') return false;
  if (f.type && e.type !== f.type) return false;
  const req = e.request ?? {};
  if (f.operation && req.operation !== f.operation) return false;
  if (f.pathPrefix && !(typeof req.path === 'string' && req.path.startsWith(f.pathPrefix))) return false;
  if (f.errorsOnly) {
    const status = typeof e.response?.status === 'number' ? e.response.status : 0;
    if (e.type !== 'response' || (e.error === undefined && status < 400)) return false;
  }
  return true;
}

/** Reads up to AUDIT_READ_MAX_BYTES: the whole file, or its tail when it is larger. */
async function readTail(path: string): Promise<{ bytes: Buffer; whole: boolean }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch {
    throw new ArcaError('ERR_INVALID_REQUEST', 'the audit device file cannot be read by the server (missing or not readable)');
  }
  try {
    const st = await fh.stat();
    // Never read a FIFO or a device: that could block or consume another reader's data.
    if (!st.isFile()) throw new ArcaError('ERR_INVALID_REQUEST', 'the audit device does not write to a regular file (a pipe or device cannot be read back)');
    const want = Math.min(st.size, AUDIT_READ_MAX_BYTES);
    const bytes = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(bytes, got, want - got, st.size - want + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { bytes: bytes.subarray(0, got), whole: want === st.size };
  } finally {
    await fh.close();
  }
}

/**
 * The device writes batches while we read: a last line without its newline is a batch in progress,
 * not damage, so it is left out of both the entries and the verification.
 */
export async function readAuditLog(path: string, f: AuditLogFilter, publicKey: string): Promise<AuditLogAnswer> {
  const { bytes: raw, whole } = await readTail(path);
  let bytes = raw.subarray(0, raw.lastIndexOf(0x0a) + 1);
  // A tail starts mid-line: drop up to the first newline.
  if (!whole) bytes = bytes.subarray(bytes.indexOf(0x0a) + 1);
  const verification = whole ? verifyFile(bytes, path, publicKey, f.ownRequestId) : { status: 'not_checked' as const, entries: 0, checkpoints: 0, chain_restarts: 0 };
  const found: Entry[] = [];
  // Newest first, stopping once `limit` entries are found.
  for (const e of newestFirst(bytes)) {
    if (e && matches(e, f)) {
      found.push(e);
      if (found.length >= f.limit) break;
    }
  }
  return { entries: found, limit_reached: found.length >= f.limit, verification };
}

/**
 * The entries of `bytes` (whole lines, each ending in a newline) from the last to the first, without
 * decoding the rest of the file; `undefined` for a damaged line (the verification says so).
 */
function* newestFirst(bytes: Buffer): Generator<Entry | undefined> {
  let end = bytes.length - 1;
  while (end > 0) {
    const start = bytes.lastIndexOf(0x0a, end - 1) + 1;
    let e: unknown;
    try {
      e = JSON.parse(bytes.subarray(start, end).toString('utf8'));
    } catch {
      e = undefined;
    }
    yield e && typeof e === 'object' ? (e as Entry) : undefined;
    end = start - 1;
  }
}

/** The request ids of the last `n` lines. */
function lastIds(bytes: Buffer, n: number): (string | undefined)[] {
  const ids: (string | undefined)[] = [];
  for (const e of newestFirst(bytes)) {
    const id = (e as (Entry & { request?: { id?: unknown } }) | undefined)?.request?.id;
    ids.push(typeof id === 'string' ? id : undefined);
    if (ids.length >= n) break;
  }
  return ids;
}

function verifyFile(bytes: Buffer, path: string, publicKey: string, ownRequestId: string | undefined): AuditVerification {
  if (bytes.length === 0) return { status: 'unproven', entries: 0, checkpoints: 0, chain_restarts: 0 };
  const r = verifyLog([{ name: path, bytes }], { publicKey });
  const v: AuditVerification = { status: r.status, entries: r.entries, checkpoints: r.checkpoints, chain_restarts: r.restarts.length };
  if (r.firstSeq !== undefined) v.first_seq = r.firstSeq;
  if (r.lastSeq !== undefined) v.last_seq = r.lastSeq;
  if (r.unsignedTail) {
    const n = r.unsignedTail.entries;
    if (ownRequestId && n > 0 && n <= 2 && r.checkpoints > 0 && lastIds(bytes, n).every((id) => id === ownRequestId)) {
      v.status = 'verified';
      v.own_request_unsigned = true;
    } else v.unsigned_entries = n;
  }
  if (r.status === 'tampered' && r.problem) v.problem = { line: r.problem.line, ...(r.problem.seq !== undefined ? { seq: r.problem.seq } : {}), reason: r.problem.reason };
  return v;
}
