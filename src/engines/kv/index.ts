export { createKvEngine } from './engine.ts';
export { formatTime, formatDuration } from './time.ts';
