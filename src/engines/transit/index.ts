export { createTransitEngine, type TransitOptions } from './engine.ts';
export type { Backends as TransitBackends } from './key-ops.ts';
export { formatCiphertext, parseCiphertext, type ParsedCiphertext } from './ciphertext.ts';
