import { constants, type promises as fsp } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuditDevice, errnoCode, joinLines } from './types.ts';

export interface FileDeviceOptions {
  name?: string;
  path: string;
  /** File mode for a new file. Default 0o600. */
  mode?: number;
  /**
   * `always` (default): fdatasync after every batch, so a written batch survives a crash.
   * `never`: leave it to the OS (faster; a crash may lose the last seconds — the spool still has them only
   * until they were drained, so prefer `always`).
   */
  fsync?: 'always' | 'never';
  /** How long one batch may wait on a full pipe (FIFO) before the write fails and is retried later. */
  pipeTimeoutMs?: number;
}

/**
 * Appends lines to a file. Opened non-blocking, so a FIFO without a reader fails fast (ENXIO) instead of
 * pinning a libuv thread; the broker's spool absorbs the backlog. `reopen()` after log rotation.
 */
export class FileDevice implements AuditDevice {
  readonly type = 'file';
  readonly name: string;
  readonly path: string;
  readonly #opts: Required<Omit<FileDeviceOptions, 'name'>>;
  #fh: fsp.FileHandle | undefined;
  #regular = true;

  constructor(opts: FileDeviceOptions) {
    this.name = opts.name ?? 'file/';
    this.path = opts.path;
    this.#opts = { mode: 0o600, fsync: 'always', pipeTimeoutMs: 2000, ...opts };
  }

  async #handle(): Promise<fsp.FileHandle> {
    if (this.#fh) return this.#fh;
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
    const fh = await open(this.path, flags, this.#opts.mode);
    try {
      this.#regular = (await fh.stat()).isFile();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
    this.#fh = fh;
    return fh;
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const fh = await this.#handle();
    const buf = joinLines(lines);
    const start = this.#regular ? (await fh.stat()).size : 0;
    let off = 0;
    const deadline = Date.now() + this.#opts.pipeTimeoutMs;
    try {
      while (off < buf.length) {
        try {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off);
          off += bytesWritten;
        } catch (err) {
          // A full pipe: wait for the reader, but not forever (the batch is retried from the spool).
          if (errnoCode(err) !== 'EAGAIN' || Date.now() > deadline) throw err;
          await sleep(10);
        }
      }
      if (this.#regular && this.#opts.fsync === 'always') await fh.datasync();
    } catch (err) {
      // All or nothing: cut a half-written batch so the retry does not leave a broken line behind.
      if (this.#regular) await fh.truncate(start).catch(() => {});
      else if (off > 0) {
        // A reader got part of the batch; drop the handle so the next write starts on a fresh line for it.
        await this.#drop();
      }
      if (errnoCode(err) === 'EPIPE' || errnoCode(err) === 'ENXIO') await this.#drop();
      throw err;
    }
  }

  async #drop(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => {});
  }

  async lastLine(): Promise<string | undefined> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(this.path);
    } catch {
      return undefined;
    }
    // Never open a FIFO or device for reading: that could block or consume the reader's data.
    if (!st.isFile() || st.size === 0) return undefined;
    const fh = await open(this.path, 'r');
    try {
      const want = Math.min(st.size, 256 * 1024);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, st.size - want);
      const text = buf.subarray(0, bytesRead);
      const end = text.lastIndexOf(0x0a);
      if (end < 0) return undefined;
      const start = text.lastIndexOf(0x0a, end - 1) + 1;
      if (start === 0 && want < st.size) return undefined;
      return text.subarray(start, end).toString('utf8');
    } finally {
      await fh.close();
    }
  }

  async reopen(): Promise<void> {
    await this.#drop();
  }

  async close(): Promise<void> {
    await this.#drop();
  }
}
