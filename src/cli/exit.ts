import { isArcaError } from '../errors/index.ts';

/** Exit codes: 0 ok, 1 usage/validation error, 2 runtime error. */
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_RUNTIME = 2;

export class UsageError extends Error {}

/** Prints an error for a person (code + message, never a stack) and sets the exit code. */
export function reportError(err: unknown): void {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (isArcaError(err)) {
    process.stderr.write(`error: ${err.code}: ${err.expose ? err.message : 'internal error'}\n`);
    process.exitCode = EXIT_RUNTIME;
    if (process.env['ARCA_DEBUG'] && err.cause) process.stderr.write(`${String(err.cause)}\n`);
    return;
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT_RUNTIME;
}
