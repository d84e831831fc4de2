export { createKvEngine } from './engine.ts';
export { formatTime } from './time.ts';
