export { assembleServer, openStorage, openAutoSeal, isLoopback, splitHostPort, type AssembleOptions, type RunningServer } from './assemble.ts';
