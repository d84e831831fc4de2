/** Leaf helpers for values with units (durations), importable from every layer: they depend only on errors/. */
export { type DurationOptions, type DurationUnit, formatDuration, MAX_DURATION, parseDuration } from './duration.ts';
