import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import type { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/** Compact a fully drained spool once it is larger than this (default). */
const COMPACT_BYTES = 4 * 1024 * 1024;

/**
 * One device's durable queue on local disk: `spool.log` (lines appended and fdatasync'd before `log()`
 * resolves) and `cursor` (byte offset up to which lines reached the device). Survives restarts: undelivered
 * lines are drained after the next start. Single process, single writer: appends are serialised here.
 */
export class Spool {
  readonly dir: string;
  #fh: fsp.FileHandle;
  #size: number;
  #cursor: number;
  #lock: Promise<unknown> = Promise.resolve();
  readonly #compactBytes: number;

  private constructor(dir: string, fh: fsp.FileHandle, size: number, cursor: number, compactBytes: number) {
    this.dir = dir;
    this.#compactBytes = compactBytes;
    this.#fh = fh;
    this.#size = size;
    this.#cursor = cursor;
  }

  static async open(dir: string, opts: { compactBytes?: number } = {}): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(join(dir, 'spool.log'), 'a+', 0o600);
    try {
      let size = (await fh.stat()).size;
      // A crash mid-append can leave a partial last line: cut it (log() never resolved for it).
      if (size > 0) {
        const tail = Buffer.alloc(Math.min(size, 64 * 1024));
        await fh.read(tail, 0, tail.length, size - tail.length);
        const nl = tail.lastIndexOf(0x0a);
        const keep = nl < 0 ? size - tail.length : size - tail.length + nl + 1;
        if (keep !== size && nl >= 0) {
          await fh.truncate(keep);
          size = keep;
        }
      }
      let cursor = 0;
      try {
        const parsed: unknown = JSON.parse(await readFile(join(dir, 'cursor'), 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && 'offset' in parsed && typeof parsed.offset === 'number') {
          cursor = parsed.offset;
        }
      } catch {
        // no cursor yet: everything in the spool is undelivered
      }
      if (!(cursor >= 0)) cursor = 0;
      if (cursor > size) cursor = size; // see #compact
      return new Spool(dir, fh, size, cursor, opts.compactBytes ?? COMPACT_BYTES);
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  get size(): number {
    return this.#size;
  }
  get cursor(): number {
    return this.#cursor;
  }
  get pending(): boolean {
    return this.#cursor < this.#size;
  }

  /** Appends lines durably (write + fdatasync). On failure the spool is cut back to where it was. */
  append(lines: readonly string[]): Promise<void> {
    return this.#locked(async () => {
      const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      const before = this.#size;
      try {
        let off = 0;
        while (off < buf.length) off += (await this.#fh.write(buf, off, buf.length - off)).bytesWritten;
        await this.#fh.datasync();
      } catch (err) {
        await this.#fh.truncate(before).catch(() => {});
        throw err;
      }
      this.#size = before + buf.length;
    });
  }

  /** Reads whole lines from the cursor, about `maxBytes` of them (at least one line). */
  async readPending(maxBytes = 256 * 1024): Promise<{ lines: string[]; end: number }> {
    const from = this.#cursor;
    let want = Math.min(maxBytes, this.#size - from);
    for (;;) {
      if (want <= 0) return { lines: [], end: from };
      const buf = Buffer.alloc(want);
      const { bytesRead } = await this.#fh.read(buf, 0, want, from);
      const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        return { lines: buf.subarray(0, nl).toString('utf8').split('\n'), end: from + nl + 1 };
      }
      if (from + bytesRead >= this.#size) return { lines: [], end: from };
      want = Math.min(want * 2, this.#size - from);
    }
  }

  /** The last complete line (for chain recovery at start), or undefined if empty. */
  async lastLine(): Promise<string | undefined> {
    if (this.#size === 0) return undefined;
    let want = Math.min(this.#size, 64 * 1024);
    for (;;) {
      const buf = Buffer.alloc(want);
      await this.#fh.read(buf, 0, want, this.#size - want);
      const body = buf.subarray(0, want - 1); // drop the final newline
      const nl = body.lastIndexOf(0x0a);
      if (nl >= 0 || want === this.#size) return body.subarray(nl + 1).toString('utf8');
      want = Math.min(want * 4, this.#size);
    }
  }

  /** Records that everything before `offset` reached the device; compacts a large drained spool. */
  commit(offset: number): Promise<void> {
    return this.#locked(async () => {
      this.#cursor = offset;
      if (this.#cursor === this.#size && this.#size > this.#compactBytes) await this.#compact();
      else await this.#writeCursor();
    });
  }

  async #writeCursor(): Promise<void> {
    const tmp = join(this.dir, 'cursor.tmp');
    await writeFile(tmp, JSON.stringify({ offset: this.#cursor }), { mode: 0o600 });
    await rename(tmp, join(this.dir, 'cursor'));
  }

  /** Keeps only the last (delivered) line, which chain recovery needs after a restart. */
  async #compact(): Promise<void> {
    const last = await this.lastLine();
    const keep = last === undefined ? Buffer.alloc(0) : Buffer.from(`${last}\n`, 'utf8');
    const tmp = join(this.dir, 'spool.tmp');
    const th = await open(tmp, 'w', 0o600);
    try {
      await th.write(keep, 0, keep.length, 0);
      await th.sync();
    } finally {
      await th.close();
    }
    // Spool first, cursor second: a crash in between leaves the old (large) cursor past the new end,
    // which `open` reads as "all delivered" — nothing is sent twice.
    await rename(tmp, join(this.dir, 'spool.log'));
    const old = this.#fh;
    this.#fh = await open(join(this.dir, 'spool.log'), 'a+', 0o600);
    await old.close().catch(() => {});
    this.#cursor = keep.length;
    this.#size = keep.length;
    await this.#writeCursor();
  }

  close(): Promise<void> {
    return this.#locked(async () => {
      await this.#writeCursor().catch(() => {});
      await this.#fh.close();
    });
  }
}
