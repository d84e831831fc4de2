export { createKubernetesAuthEngine } from './engine.ts';
