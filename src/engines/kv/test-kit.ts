/** Test helpers for the KV engine: an engine over InmemStorage with a settable clock. Not for production code. */
import { silentLogger } from '../../log/index.ts';
import { InmemStorage, type Storage } from '../../storage/index.ts';
import type { Engine, EngineRequest, EngineResponse, Operation } from '../types.ts';
import { createKvEngine } from './engine.ts';

export interface Kit {
  engine: Engine;
  storage: Storage;
  clock: { ms: number };
  call(op: Operation, path: string, data?: Record<string, unknown>, can?: EngineRequest['can']): Promise<EngineResponse | undefined>;
  /** Calls and returns `data` of a 200 response, failing if there is none. */
  data(op: Operation, path: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0) + 0.123;

export function kit(storage: Storage = new InmemStorage()): Kit {
  const clock = { ms: T0 };
  const engine = createKvEngine({ storage, log: silentLogger(), now: () => clock.ms, isActive: () => true }, { version: '2' });
  let n = 0;
  const call: Kit['call'] = (operation, path, data = {}, can = () => true) =>
    engine.handle({
      id: `req-${++n}`,
      operation,
      path,
      mountPoint: 'secret/',
      data,
      auth: undefined,
      clientAddr: '127.0.0.1',
      can,
    });
  return {
    engine,
    storage,
    clock,
    call,
    async data(op, path, body) {
      const r = await call(op, path, body);
      if (!r || (r.status !== undefined && r.status !== 200) || !r.data) throw new Error(`expected a 200 with data, got ${JSON.stringify(r)}`);
      return r.data;
    },
  };
}

/** Collects every storage key under a prefix, recursively. */
export async function allKeys(s: Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const k of await s.list(prefix)) {
    if (k.endsWith('/')) out.push(...(await allKeys(s, prefix + k)));
    else out.push(prefix + k);
  }
  return out;
}
