export { createCertAuthEngine } from './engine.ts';
