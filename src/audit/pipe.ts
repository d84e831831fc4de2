import type { Logger } from '../log/index.ts';
import type { AuditDevice } from './devices/types.ts';
import { errnoCode } from './devices/types.ts';
import { Spool } from './spool.ts';

export interface PipeOptions {
  /** Without a working spool, how long `persist` waits for the device itself. */
  directTimeoutMs: number;
  /** Lines kept in memory for a device whose spool failed; beyond this they are dropped for that device. */
  maxMemoryLines: number;
  retryMinMs: number;
  retryMaxMs: number;
  log: Logger | undefined;
}

/** A line that must be followed by `device.reopen()` first: the header the broker writes on SIGHUP. */
const REOPEN_HEADER = /^\{"seq":\d+,"type":"header","reason":"reopen"/;
const SEQ = /^\{"seq":(\d+),/;

interface MemItem {
  line: string;
  delivered: () => void;
}

/**
 * One device's path from the broker: a durable spool, drained in order to the device by a background loop,
 * so a slow device never holds up `persist`. If the spool cannot be written, lines are kept in memory
 * and `persist` resolves only once the device itself has them (or rejects after `directTimeoutMs`).
 */
export class DevicePipe {
  readonly device: AuditDevice;
  #spool: Spool | undefined;
  readonly #opts: PipeOptions;
  #appendQueue: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #appending = false;
  #mem: MemItem[] = [];
  #stopped = false;
  #wake: (() => void) | undefined;
  #idle: (() => void)[] = [];
  #loop: Promise<void>;
  /** Failures since the last successful device write (for `status()`). */
  #failures = 0;

  private constructor(device: AuditDevice, spool: Spool | undefined, opts: PipeOptions) {
    this.device = device;
    this.#spool = spool;
    this.#opts = opts;
    this.#loop = this.#drain();
  }

  static async create(device: AuditDevice, spoolDir: string, opts: PipeOptions): Promise<DevicePipe> {
    let spool: Spool | undefined;
    try {
      spool = await Spool.open(spoolDir);
    } catch (err) {
      opts.log?.error({ device: device.name, code: errnoCode(err) }, 'audit spool unavailable');
    }
    return new DevicePipe(device, spool, opts);
  }

  get spoolOk(): boolean {
    return this.#spool !== undefined;
  }

  async lastSpooledLine(): Promise<string | undefined> {
    return this.#spool?.lastLine();
  }

  /** Queues `line` for the device. Resolves once it is durable in the spool or written to the device. */
  persist(line: string): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('audit device closed'));
    if (this.#spool) {
      return new Promise((resolve, reject) => {
        this.#appendQueue.push({ line, resolve, reject });
        if (!this.#appending) void this.#appendLoop();
      });
    }
    return this.#toMemory([line]);
  }

  /** Group commit: every line queued while one fdatasync runs goes into the next one. */
  async #appendLoop(): Promise<void> {
    this.#appending = true;
    try {
      while (this.#appendQueue.length > 0) {
        const batch = this.#appendQueue.splice(0);
        const spool = this.#spool;
        if (!spool) {
          this.#toMemory(batch.map((b) => b.line)).then(
            () => {
              for (const b of batch) b.resolve();
            },
            (err: unknown) => {
              for (const b of batch) b.reject(err);
            },
          );
          continue;
        }
        try {
          await spool.append(batch.map((b) => b.line));
          for (const b of batch) b.resolve();
          this.#wake?.();
        } catch (err) {
          // From here on this device runs from memory, after whatever the spool still holds.
          this.#opts.log?.error({ device: this.device.name, code: errnoCode(err) }, 'audit spool write failed');
          this.#spool = undefined;
          this.#pendingSpool = spool;
          this.#appendQueue.unshift(...batch);
        }
      }
    } finally {
      this.#appending = false;
    }
  }

  /** A spool that failed on append but may still hold undelivered lines. */
  #pendingSpool: Spool | undefined;

  #toMemory(lines: string[]): Promise<void> {
    const room = this.#opts.maxMemoryLines - this.#mem.length;
    if (room < lines.length) {
      this.#opts.log?.error({ device: this.device.name, dropped: lines.length }, 'audit memory queue full');
      return Promise.reject(new Error('audit memory queue full'));
    }
    const waits = lines.map(
      (line) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('audit device did not accept the entry in time')), this.#opts.directTimeoutMs);
          this.#mem.push({
            line,
            delivered: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        }),
    );
    this.#wake?.();
    return Promise.all(waits).then(() => {});
  }

  get drained(): boolean {
    const spool = this.#spool ?? this.#pendingSpool;
    return this.#appendQueue.length === 0 && !(spool?.pending ?? false) && this.#mem.length === 0;
  }

  get failures(): number {
    return this.#failures;
  }

  /** Resolves true once everything queued so far reached the device, false on timeout. */
  waitDrained(timeoutMs: number): Promise<boolean> {
    if (this.drained) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Seq of the last line the device already holds (from before a restart); spooled lines up to it are skipped. */
  async #deviceSeq(): Promise<number> {
    try {
      const m = SEQ.exec((await this.device.lastLine?.()) ?? '');
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }

  async #drain(): Promise<void> {
    let backoff = this.#opts.retryMinMs;
    let skipUpTo = await this.#deviceSeq();
    while (!this.#stopped) {
      const spool = this.#spool ?? this.#pendingSpool;
      let lines: string[];
      let commit: (n: number) => Promise<void>;
      if (spool?.pending) {
        const start = spool.cursor;
        try {
          lines = (await spool.readPending()).lines;
        } catch (err) {
          this.#opts.log?.error({ device: this.device.name, code: errnoCode(err) }, 'audit spool read failed');
          await this.#sleep(this.#opts.retryMaxMs);
          continue;
        }
        const got = lines;
        commit = (n) => {
          let end = start;
          for (let i = 0; i < n; i++) end += Buffer.byteLength(got[i]!, 'utf8') + 1;
          return spool.commit(end);
        };
      } else if (this.#mem.length > 0) {
        const items = this.#mem.slice(0, 1000);
        lines = items.map((m) => m.line);
        commit = async (n) => {
          for (const m of this.#mem.splice(0, n)) m.delivered();
        };
      } else {
        for (const f of this.#idle.splice(0)) f();
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      if (lines.length === 0) continue;
      if (skipUpTo > 0) {
        // Lines the device got before a crash but whose delivery was not recorded: acknowledge, do not resend.
        let k = 0;
        while (k < lines.length && Number(SEQ.exec(lines[k]!)?.[1] ?? Number.POSITIVE_INFINITY) <= skipUpTo) k++;
        if (k < lines.length) skipUpTo = 0;
        if (k > 0) {
          await commit(k).catch(() => {});
          continue;
        }
      }
      // Write up to the next reopen header; a batch that starts with one reopens the device first.
      const first = REOPEN_HEADER.test(lines[0]!);
      let n = lines.findIndex((l, i) => i > 0 && REOPEN_HEADER.test(l));
      if (n < 0) n = lines.length;
      try {
        if (first) await this.device.reopen?.();
        await this.device.write(lines.slice(0, n));
        await commit(n);
        this.#failures = 0;
        backoff = this.#opts.retryMinMs;
      } catch (err) {
        this.#failures++;
        if (this.#failures === 1 || this.#failures % 100 === 0) {
          this.#opts.log?.warn({ device: this.device.name, code: errnoCode(err), failures: this.#failures }, 'audit device write failed');
        }
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, this.#opts.retryMaxMs);
      }
    }
  }

  /** Waits `ms`, or less if the pipe is stopped meanwhile (new lines do not cut a retry backoff short). */
  async #sleep(ms: number): Promise<void> {
    // stop() may have run while a device write was in flight, before this wake hook existed.
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      // A forgotten broker must not keep the process alive; undelivered lines wait in the spool.
      t.unref();
      this.#wake = () => {
        if (this.#stopped) {
          clearTimeout(t);
          resolve();
        }
      };
    });
    this.#wake = undefined;
  }

  /** Stops the drainer (undelivered lines stay in the spool for the next start) and closes the device. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop.catch(() => {});
    for (const b of this.#appendQueue.splice(0)) b.reject(new Error('audit device closed'));
    await (this.#spool ?? this.#pendingSpool)?.close().catch(() => {});
    await this.device.close().catch(() => {});
  }
}
