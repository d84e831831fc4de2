import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * Holds a secret value so that printing, logging or JSON-serialising the holder never shows it.
 * Call `reveal()` at the one place that needs the value.
 */
export class Secret<T> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
