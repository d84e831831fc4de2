/**
 * Request ids: a random per-process prefix and a counter, in UUID form. `randomUUID` per request
 * cost ~0.7 µs of a KV read; this costs an increment. The prefix carries 74 random bits (a fresh
 * v4 UUID's first 24 characters), so ids stay unique across restarts and replicas; the counter is
 * the last 12 hex digits (48 bits). The result still parses as a UUID (version and variant kept).
 */
import { randomUUID } from 'node:crypto';

const COUNTER_SPACE = 2 ** 48;

export function requestIdGenerator(): () => string {
  let prefix = randomUUID().slice(0, 24);
  let n = 0;
  return () => {
    if (n === COUNTER_SPACE) {
      // Never reached in practice (2^48 requests); a new prefix keeps ids unique if it ever is.
      prefix = randomUUID().slice(0, 24);
      n = 0;
    }
    return prefix + (n++).toString(16).padStart(12, '0');
  };
}
