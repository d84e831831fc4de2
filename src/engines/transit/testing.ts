/** Test helpers for the transit engine (imported by *.test.ts only). */
import { createDecipheriv } from 'node:crypto';
import { silentLogger } from '../../log/index.ts';
import type { InmemStorage, Storage } from '../../storage/index.ts';
import type { Engine, EngineRequest, EngineResponse, Operation } from '../types.ts';
import { parseCiphertext } from './ciphertext.ts';
import { type TransitBackends, createTransitEngine } from './index.ts';

export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

export function makeEngine(storage: Storage, backends: TransitBackends, clock: Clock = fakeClock()): Engine {
  return createTransitEngine({ storage, log: silentLogger(), now: clock.now, isActive: () => true }, backends);
}

let seq = 0;
export function request(operation: Operation, path: string, data: Record<string, unknown> = {}): EngineRequest {
  return {
    id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
    operation,
    path,
    mountPoint: 'transit/',
    data,
    auth: undefined,
    clientAddr: '127.0.0.1',
    can: () => true,
  };
}

/** Calls the engine the way the core does for a write: existence check first, then create or update. */
export async function write(engine: Engine, path: string, data: Record<string, unknown> = {}, canCreate = true): Promise<EngineResponse | undefined> {
  const probe = request('update', path, data);
  const exists = engine.exists ? await engine.exists(probe) : true;
  return engine.handle(request(exists || !canCreate ? 'update' : 'create', path, data));
}

export async function call(engine: Engine, op: Operation, path: string, data: Record<string, unknown> = {}): Promise<EngineResponse | undefined> {
  return engine.handle(request(op, path, data));
}

export function b64(s: string | Uint8Array): string {
  return Buffer.from(s).toString('base64');
}

/** `data` of a response, asserting there is one. */
export function dataOf(r: EngineResponse | undefined): Record<string, unknown> {
  if (!r?.data) throw new Error(`expected a response with data, got ${JSON.stringify(r)}`);
  return r.data;
}

/** Every value in an InmemStorage (walks list() recursively). */
export async function dumpStorage(s: InmemStorage): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (prefix: string): Promise<void> => {
    for (const child of await s.list(prefix)) {
      if (child.endsWith('/')) await walk(prefix + child);
      else {
        const v = await s.get(prefix + child);
        if (v) out.set(prefix + child, v);
      }
    }
  };
  await walk('');
  return out;
}

/**
 * Looks for AES-256 key material in stored values: tries every 32-byte window of each value, and of
 * every base64 run inside it, as the key of a (non-derived, no-AAD) ciphertext. Returns the storage
 * keys where a working key was found.
 */
export function findKeyMaterial(dump: Map<string, Uint8Array>, ciphertext: string): string[] {
  const { raw } = parseCiphertext(ciphertext);
  const nonce = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  const body = raw.subarray(12, raw.length - 16);
  const opens = (key: Uint8Array): boolean => {
    try {
      const d = createDecipheriv('aes-256-gcm', key, nonce);
      d.setAuthTag(tag);
      d.update(body);
      d.final();
      return true;
    } catch {
      return false;
    }
  };
  const hits: string[] = [];
  for (const [k, v] of dump) {
    const blobs: Uint8Array[] = [v];
    for (const m of Buffer.from(v).toString('latin1').matchAll(/[A-Za-z0-9+/]{40,}={0,2}/g)) blobs.push(Buffer.from(m[0], 'base64'));
    const found = blobs.some((b) => {
      for (let i = 0; i + 32 <= b.length; i++) if (opens(b.subarray(i, i + 32))) return true;
      return false;
    });
    if (found) hits.push(k);
  }
  return hits;
}

/**
 * `inner`, except that the first commit writing `key` first runs `before`: another engine instance's
 * write landing between this one's read and its write. `raced()` tells whether it ran.
 */
export function racingStorage(inner: Storage, key: string, before: () => Promise<unknown>): Storage & { raced(): boolean } {
  let raced = false;
  return {
    get: (k, o) => inner.get(k, o),
    put: (k, v) => inner.put(k, v),
    delete: (k) => inner.delete(k),
    list: (prefix) => inner.list(prefix),
    putIf: (k, v, e) => inner.putIf(k, v, e),
    close: async () => {},
    commit: async (ops) => {
      if (!raced && ops.puts?.some(([k]) => k === key)) {
        raced = true;
        await before();
      }
      return inner.commit(ops);
    },
    raced: () => raced,
  };
}
