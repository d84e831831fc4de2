export { createTransitEngine, type TransitOptions } from './engine.ts';
export type { Backends as TransitBackends } from './key-ops.ts';
export { formatCiphertext, parseCiphertext, type ParsedCiphertext } from './ciphertext.ts';
// Vault serves the same keyless helpers at sys/tools/hash and sys/tools/random (core/builtin/system.ts).
export { hash } from './hash.ts';
export { random } from './datakey-random.ts';
