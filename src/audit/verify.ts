import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { checkpointMessage, GENESIS_PREV, keyIdOf, lineHash, parsePublicKey, restartMessage, verifyCheckpoint } from './signing.ts';

/** One log file's bytes, in order. PURE verification: the caller reads the files. */
export interface LogFile {
  name: string;
  bytes: Uint8Array;
}

export interface VerifyOptions {
  /** Trusted public key (base64 SPKI/raw or PEM). Without it the first header's key is trusted. */
  publicKey?: string;
  /** Fail unless the log reaches at least this seq (detects truncation back to an older checkpoint). */
  minLastSeq?: number;
}

export interface VerifyProblem {
  file: string;
  /** 1-based line number within `file`. */
  line: number;
  seq?: number;
  reason: string;
}

/**
 * - `verified`: every entry is chained and covered by a signed checkpoint.
 * - `unproven`: the chain is intact, but the entries after the last checkpoint are not signed yet (a
 *   live log between checkpoints, or a server that died without a clean shutdown; truncation back to
 *   a checkpoint looks the same, which `minLastSeq` catches). `arca audit checkpoint` signs now.
 * - `tampered`: something provably does not belong (or the input is unusable).
 */
export type VerifyStatus = 'verified' | 'unproven' | 'tampered';

export interface ChainRestart {
  file: string;
  line: number;
  seq: number;
  /** What the server said made it restart (unreadable chain state, an entry that reached no device). */
  cause: string;
}

export interface VerifyResult {
  /** status === 'verified'. */
  ok: boolean;
  status: VerifyStatus;
  /** For `unproven`: the entries after the last checkpoint. */
  unsignedTail?: { fromSeq: number; toSeq: number; entries: number };
  /** Signed chain-restart headers: breaks in the chain the server itself declared. */
  restarts: ChainRestart[];
  /** The first problem found, naming the first bad entry. */
  problem?: VerifyProblem;
  entries: number;
  checkpoints: number;
  firstSeq?: number;
  lastSeq?: number;
  /** Whether the log starts at the genesis entry (seq 1); false means earlier files were not given. */
  anchored: boolean;
  keyId?: string;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const base = z.object({ seq: z.number().int().positive(), type: z.enum(['header', 'request', 'response', 'checkpoint']), time: z.string(), prev: hex64 });
const header = base.extend({
  type: z.literal('header'),
  public_key: z.string(),
  key_id: z.string(),
  reason: z.string().optional(),
  restart_cause: z.string().optional(),
  sig: z.string().optional(),
});
const checkpoint = base.extend({ type: z.literal('checkpoint'), key_id: z.string(), sig: z.string() });
const entry = base.extend({ type: z.enum(['request', 'response']), request: z.object({ id: z.string(), path: z.string() }) });

interface Line {
  file: string;
  no: number;
  bytes: Uint8Array;
  /** false when the file does not end with a newline after this line. */
  complete: boolean;
}

function* splitLines(f: LogFile): Generator<Line> {
  const b = f.bytes;
  let start = 0;
  let no = 0;
  while (start < b.length) {
    const nl = b.indexOf(0x0a, start);
    no++;
    if (nl < 0) {
      yield { file: f.name, no, bytes: b.subarray(start), complete: false };
      return;
    }
    yield { file: f.name, no, bytes: b.subarray(start, nl), complete: true };
    start = nl + 1;
  }
}

interface Parsed {
  seq: number;
  type: string;
  prev: string;
  raw: Record<string, unknown>;
}

function parseLine(l: Line): Parsed | string {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(l.bytes).toString('utf8'));
  } catch {
    return 'not valid JSON (modified or truncated)';
  }
  const r = base.safeParse(v);
  if (!r.success) return 'not an audit entry (missing or malformed seq, type, time or prev)';
  return { seq: r.data.seq, type: r.data.type, prev: r.data.prev, raw: v as Record<string, unknown> };
}

/**
 * Checks a log given as its files in order (rotated files first): every line parses, `seq` increases by
 * one, each `prev` is the SHA-256 of the previous line's bytes (also across files), each file starts with a
 * header, every checkpoint signature verifies under one key, and the log ends with a checkpoint.
 */
export function verifyLog(files: readonly LogFile[], opts: VerifyOptions = {}): VerifyResult {
  const res: VerifyResult = { ok: true, status: 'verified', restarts: [], entries: 0, checkpoints: 0, anchored: false };
  let trusted: { key: KeyObject; spki: Buffer } | undefined;
  if (opts.publicKey !== undefined) {
    trusted = parsePublicKey(opts.publicKey);
    if (!trusted) {
      return { ...res, ok: false, status: 'tampered', problem: { file: '-', line: 0, reason: 'the given public key is not an Ed25519 key' } };
    }
    res.keyId = keyIdOf(trusted.spki);
  }
  const fail = (l: Pick<Line, 'file' | 'no'>, reason: string, seq?: number): VerifyResult => {
    const problem: VerifyProblem = { file: l.file, line: l.no, reason };
    if (seq !== undefined) problem.seq = seq;
    return { ...res, ok: false, status: 'tampered', problem };
  };

  let prevLine: { line: Line; parsed: Parsed; hash: string } | undefined;
  let beforePrevHash: string | undefined;
  let lastType: string | undefined;
  /** Seq of the last checkpoint, and entries since. */
  let lastCheckpointSeq: number | undefined;
  let sinceCheckpoint = 0;

  for (const f of files) {
    const lines = [...splitLines(f)];
    if (lines.length === 0) return fail({ file: f.name, no: 1 }, 'file is empty (a log file always starts with a header)');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (!l.complete) return fail(l, 'last line is incomplete (the file was truncated or is still being written)');
      const p = parseLine(l);
      if (typeof p === 'string') return fail(l, p);
      const hash = lineHash(l.bytes);
      if (i === 0 && p.type !== 'header') return fail(l, 'file does not start with a header entry (lines removed from its start?)', p.seq);
      // A chain-restart header (its signature is checked below) is allowed not to link to the line
      // before it: the server declares there that it lost its position in the chain.
      const restart = p.type === 'header' && p.raw['reason'] === 'chain-restart';
      if (prevLine === undefined) {
        res.firstSeq = p.seq;
        res.anchored = p.seq === 1 && p.prev === GENESIS_PREV;
      } else if (!restart) {
        const expected = prevLine.parsed.seq + 1;
        // An inserted line: the line after it links to the line before it.
        const next = lines[i + 1];
        const nextParsed = next?.complete ? parseLine(next) : undefined;
        const insertedHere =
          typeof nextParsed === 'object' && nextParsed.prev === prevLine.hash && nextParsed.seq === expected;
        if (insertedHere) {
          return fail(l, 'entry does not belong here (inserted or moved): the next entry links to the one before it', p.seq);
        }
        if (p.seq !== expected) {
          if (p.seq === prevLine.parsed.seq && p.prev === beforePrevHash) return fail(l, `duplicate of seq ${p.seq}`, p.seq);
          return fail(l, `expected seq ${expected}, found ${p.seq} (entries deleted, reordered or inserted before this line)`, p.seq);
        }
        if (p.prev !== prevLine.hash) {
          return fail(
            prevLine.line,
            `hash chain broken: this entry was modified (its hash does not match the prev of ${l.file}:${l.no}), or that entry's prev was`,
            prevLine.parsed.seq,
          );
        }
      }
      if (p.type === 'header') {
        const h = header.safeParse(p.raw);
        if (!h.success) return fail(l, 'malformed header entry', p.seq);
        const k = parsePublicKey(h.data.public_key);
        if (!k) return fail(l, 'header carries an invalid public key', p.seq);
        if (!trusted) {
          trusted = k;
          res.keyId = keyIdOf(k.spki);
        } else if (!k.spki.equals(trusted.spki)) {
          return fail(l, 'header announces a different signing key than the trusted one', p.seq);
        }
        if (restart) {
          if (!h.data.sig || !verifyCheckpoint(trusted.key, restartMessage(p.seq, h.data.time, p.prev), h.data.sig)) {
            return fail(l, 'chain-restart header signature is missing or invalid (forged or modified)', p.seq);
          }
          res.restarts.push({ file: l.file, line: l.no, seq: p.seq, cause: h.data.restart_cause ?? 'unknown' });
        }
      } else if (p.type === 'checkpoint') {
        const c = checkpoint.safeParse(p.raw);
        if (!c.success) return fail(l, 'malformed checkpoint entry', p.seq);
        if (!trusted) return fail(l, 'checkpoint before any header: no key to verify it', p.seq);
        if (c.data.key_id !== keyIdOf(trusted.spki)) return fail(l, 'checkpoint names a different signing key', p.seq);
        if (!verifyCheckpoint(trusted.key, checkpointMessage(p.seq, c.data.time, p.prev), c.data.sig)) {
          return fail(l, 'checkpoint signature is invalid (forged or modified)', p.seq);
        }
        res.checkpoints++;
        lastCheckpointSeq = p.seq;
        sinceCheckpoint = -1;
      } else if (!entry.safeParse(p.raw).success) {
        return fail(l, `malformed ${p.type} entry`, p.seq);
      }
      beforePrevHash = prevLine?.hash;
      prevLine = { line: l, parsed: p, hash };
      lastType = p.type;
      res.entries++;
      sinceCheckpoint++;
      res.lastSeq = p.seq;
    }
  }
  if (!prevLine) return fail({ file: '-', no: 0 }, 'no log files given');
  if (opts.minLastSeq !== undefined && prevLine.parsed.seq < opts.minLastSeq) {
    return fail(prevLine.line, `log ends at seq ${prevLine.parsed.seq}, before the expected seq ${opts.minLastSeq} (truncated)`, prevLine.parsed.seq);
  }
  if (lastType !== 'checkpoint') {
    // Not tampering: nothing signed says these entries should be otherwise. Not proof either.
    const toSeq = prevLine.parsed.seq;
    return {
      ...res,
      ok: false,
      status: 'unproven',
      unsignedTail: { fromSeq: lastCheckpointSeq === undefined ? (res.firstSeq ?? toSeq) : lastCheckpointSeq + 1, toSeq, entries: sinceCheckpoint },
      problem: {
        file: prevLine.line.file,
        line: prevLine.line.no,
        seq: toSeq,
        reason: `log ends without a checkpoint after seq ${toSeq}: the last ${sinceCheckpoint} entries are not signed yet (a live log between checkpoints, a server stopped without a clean shutdown, or a truncated log)`,
      },
    };
  }
  return res;
}
