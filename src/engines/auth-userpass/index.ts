export { createUserpassAuthEngine } from './engine.ts';
export { SCRYPT } from './password.ts';
export { LOCKOUT } from './lockout.ts';
