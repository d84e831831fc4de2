import { createConnection, type Socket } from 'node:net';
import { type AuditDevice, joinLines } from './types.ts';

export type SocketAddress = { path: string } | { host: string; port: number };

/**
 * Sends newline-delimited lines over a unix or TCP stream socket, reconnecting after errors.
 * Delivery is at-least-once: a batch interrupted by a dropped connection is sent again.
 */
export class SocketDevice implements AuditDevice {
  readonly type = 'socket';
  readonly name: string;
  readonly #addr: SocketAddress;
  readonly #timeoutMs: number;
  #sock: Socket | undefined;

  constructor(opts: { name?: string; address: SocketAddress; timeoutMs?: number }) {
    this.name = opts.name ?? 'socket/';
    this.#addr = opts.address;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
  }

  #connect(): Promise<Socket> {
    if (this.#sock && !this.#sock.destroyed) return Promise.resolve(this.#sock);
    return new Promise((resolve, reject) => {
      const s = 'path' in this.#addr ? createConnection({ path: this.#addr.path }) : createConnection({ host: this.#addr.host, port: this.#addr.port });
      const timer = setTimeout(() => s.destroy(new Error('audit socket connect timeout')), this.#timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        // Keep later errors from crashing the process; the next write sees a destroyed socket and reconnects.
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (this.#sock === s) this.#sock = undefined;
        });
        this.#sock = s;
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        s.destroy();
        reject(err);
      });
    });
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const s = await this.#connect();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('audit socket write timeout'));
      }, this.#timeoutMs);
      s.write(joinLines(lines), (err) => {
        clearTimeout(timer);
        if (err) {
          s.destroy();
          reject(err);
        } else resolve();
      });
    });
  }

  async reopen(): Promise<void> {
    this.#sock?.destroy();
    this.#sock = undefined;
  }

  async close(): Promise<void> {
    const s = this.#sock;
    this.#sock = undefined;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.end(() => resolve());
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
