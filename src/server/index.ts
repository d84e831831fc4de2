export { assembleServer, openStorage, openAutoSeal, isLoopback, splitHostPort, type RunningServer } from './assemble.ts';
