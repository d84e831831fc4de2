import type { Writable } from 'node:stream';
import { type AuditDevice, joinLines } from './types.ts';

/** Writes lines to stdout (or another stream), honouring backpressure. */
export class StdoutDevice implements AuditDevice {
  readonly type = 'stdout';
  readonly name: string;
  readonly #out: Writable;

  constructor(opts: { name?: string; stream?: Writable } = {}) {
    this.name = opts.name ?? 'stdout/';
    this.#out = opts.stream ?? process.stdout;
  }

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#out.write(joinLines(lines), (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
