/**
 * An audit sink. The broker calls `write` from one drainer per device, never concurrently, always in log
 * order. `write` resolves once the lines are written (a file device also fsyncs); when it rejects, the
 * broker retries the same lines later, so a device should write all or nothing (the file device truncates
 * a half-written batch away; a socket peer may see a batch twice — at-least-once).
 */
export interface AuditDevice {
  /** Unique name (the `sys/audit` path, e.g. `file/`). */
  readonly name: string;
  readonly type: string;
  /** Lines without their trailing newline. */
  write(lines: readonly string[]): Promise<void>;
  /**
   * The last complete line already in the target, if the device can read it back (a regular file can).
   * Lets the broker skip spooled lines the device already has after a crash (no duplicates).
   */
  lastLine?(): Promise<string | undefined>;
  /** Reopen the target (file rotation on SIGHUP). */
  reopen?(): Promise<void>;
  close(): Promise<void>;
}

export function joinLines(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
