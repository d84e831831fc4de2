import type { ErrorCode } from './codes.ts';

export interface ArcaErrorOptions {
  /** Whether `message` may be shown to a client. Internal errors never expose theirs. */
  expose?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error type of Arca. `code` is stable and machine-readable; `message` says what to fix.
 * Messages must never contain secret material (keys, tokens, plaintexts).
 */
export class ArcaError extends Error {
  readonly code: ErrorCode;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: ArcaErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ArcaError';
    this.code = code;
    this.expose = opts.expose ?? code !== 'ERR_INTERNAL';
    this.details = opts.details;
  }
}

export function isArcaError(err: unknown, code?: ErrorCode): err is ArcaError {
  return err instanceof ArcaError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an ArcaError, keeping ArcaErrors as they are. */
export function toArcaError(err: unknown): ArcaError {
  if (err instanceof ArcaError) return err;
  return new ArcaError('ERR_INTERNAL', 'internal error', { expose: false, cause: err });
}
