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
    if ((err.code === 'ERR_PERMISSION_DENIED' || err.code === 'ERR_TOKEN_INVALID') && !tokenGiven()) {
      process.stderr.write('hint: no token was sent: set ARCA_TOKEN (the dev banner prints the export line) or pass --token\n');
    }
    process.exitCode = EXIT_RUNTIME;
    if (process.env['ARCA_DEBUG'] && err.cause) process.stderr.write(`${String(err.cause)}\n`);
    return;
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT_RUNTIME;
}

/** Whether the user gave the CLI a token at all (env or flag): a denial without one needs a hint. */
function tokenGiven(): boolean {
  return Boolean(process.env['ARCA_TOKEN'] || process.env['VAULT_TOKEN']) || process.argv.some((a) => a === '--token' || a.startsWith('--token='));
}
