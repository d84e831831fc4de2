import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are never written to a log, wherever they appear (one or two levels deep).
 * Arca code should not put secrets in log fields at all; this is the safety net.
 */
const SENSITIVE = [
  'token', 'client_token', 'rootToken', 'root_token', 'key', 'keys', 'keys_base64', 'secret', 'secrets',
  'plaintext', 'password', 'pin', 'share', 'shares', 'authorization', 'x-vault-token', 'data', 'ciphertext',
  'seed', 'dek', 'kek', 'rootKey', 'unsealKey',
];
const REDACT_PATHS = [
  ...SENSITIVE,
  ...SENSITIVE.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers["x-vault-token"]',
];

export interface LogSettings {
  level?: string;
  /** Where to write; defaults to stderr so stdout stays free for command output. */
  destination?: number | string;
}

export function createLogger(settings: LogSettings = {}): Logger {
  const opts: LoggerOptions = {
    level: settings.level ?? process.env['ARCA_LOG_LEVEL'] ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
  };
  return pino(opts, pino.destination({ dest: settings.destination ?? 2, sync: true }));
}

/** A logger that discards everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
