export { createLogger, silentLogger, type Logger, type LogSettings } from './logger.ts';
export { Secret } from './secret.ts';
