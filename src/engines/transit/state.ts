import type { Logger } from '../../log/index.ts';
import type { KeyOps } from './key-ops.ts';
import type { KeyStore } from './key-store.ts';

/** What the transit path handlers share. `now` is Unix milliseconds (EngineContext.now). */
export interface TransitState {
  store: KeyStore;
  ops: KeyOps;
  now: () => number;
  log: Logger;
}
