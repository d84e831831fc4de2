export { createPkiEngine } from './engine.ts';
