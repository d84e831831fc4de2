import { setTimeout as sleep } from 'node:timers/promises';
import { ArcaError } from '../../errors/index.ts';
import type { Storage } from '../../storage/index.ts';
import {
  CONFIG_KEY,
  DEFAULT_CONFIG,
  decodeConfig,
  decodeData,
  decodeMeta,
  encode,
  metaKey,
  type StoredConfig,
  type StoredMeta,
  versionKey,
} from './records.ts';

/** What a metadata mutation wants done; see KvStore.mutate. */
export interface Mutation<T> {
  /** The new metadata record; absent = nothing to write, just return `result`. */
  meta?: StoredMeta;
  result: T;
  /** A new version's data, stored (under its own random ref) before the metadata is swung. */
  write?: { version: number; ref: string; data: Record<string, unknown> };
  /** Version records the new metadata no longer references (trimmed or destroyed): deleted after. */
  drop?: { version: number; ref: string }[];
}

/** A writer retries this often when other writers keep winning the compare-and-put. */
const MAX_ATTEMPTS = 200;

/** Typed access to the KV records of one mount; concurrency-safe without a global lock. */
export class KvStore {
  readonly #s: Storage;

  constructor(storage: Storage) {
    this.#s = storage;
  }

  async config(): Promise<StoredConfig> {
    const raw = await this.#s.get(CONFIG_KEY);
    return raw === undefined ? DEFAULT_CONFIG : decodeConfig(raw);
  }

  async putConfig(c: StoredConfig): Promise<void> {
    await this.#s.put(CONFIG_KEY, encode(c));
  }

  async meta(path: string): Promise<StoredMeta | undefined> {
    const raw = await this.#s.get(metaKey(path));
    return raw === undefined ? undefined : decodeMeta(raw);
  }

  async hasMeta(path: string): Promise<boolean> {
    return (await this.#s.get(metaKey(path))) !== undefined;
  }

  /** The data of one version, or undefined if its record is gone (destroyed or trimmed meanwhile). */
  async data(path: string, version: number, ref: string): Promise<Record<string, unknown> | undefined> {
    if (ref === '') return undefined;
    const raw = await this.#s.get(versionKey(path, version, ref));
    return raw === undefined ? undefined : decodeData(raw);
  }

  /**
   * Read-modify-write of one path's metadata as an optimistic transaction: `fn` sees the current
   * record and returns the change; the change lands only if the record is still byte-identical
   * (`commit` with an expectation), else `fn` runs again on the fresh record. So two CAS writers with the same `cas` cannot
   * both win, and concurrent writers without `cas` each get their own version number.
   */
  async mutate<T>(path: string, fn: (cur: StoredMeta | undefined) => Promise<Mutation<T>> | Mutation<T>): Promise<T> {
    const key = metaKey(path);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.#s.get(key);
      const m = await fn(raw === undefined ? undefined : decodeMeta(raw));
      if (m.meta === undefined) return m.result;
      // One atomic commit: the new version record, the metadata swing and the dropped records land
      // together (one durable transaction), and only if the metadata is still what `fn` saw.
      const puts: [string, Uint8Array][] = [];
      if (m.write) puts.push([versionKey(path, m.write.version, m.write.ref), encode({ data: m.write.data })]);
      puts.push([key, encode(m.meta)]);
      const deletes = (m.drop ?? []).filter((d) => d.ref !== '').map((d) => versionKey(path, d.version, d.ref));
      if (await this.#s.commit({ puts, deletes, expect: [[key, raw]] })) return m.result;
      // Lost the race: nothing was written; run `fn` again on the fresh record.
      if (attempt > 2) await sleep(Math.random() * Math.min(20, attempt));
    }
    throw new ArcaError('ERR_STORAGE_CONFLICT', 'too many concurrent writes to this path; retry the request');
  }

  /** Removes a path's metadata and every version record it references, atomically. */
  async deleteAll(path: string): Promise<void> {
    const key = metaKey(path);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.#s.get(key);
      if (raw === undefined) return;
      const meta = decodeMeta(raw);
      const deletes = [key];
      for (const [v, sv] of Object.entries(meta.versions)) {
        if (sv.ref !== '') deletes.push(versionKey(path, Number(v), sv.ref));
      }
      // Expecting the record we read means a version written meanwhile is not orphaned: we retry.
      if (await this.#s.commit({ deletes, expect: [[key, raw]] })) return;
      if (attempt > 2) await sleep(Math.random() * Math.min(20, attempt));
    }
    throw new ArcaError('ERR_STORAGE_CONFLICT', 'too many concurrent writes to this path; retry the request');
  }

  list(prefix: string): Promise<string[]> {
    return this.#s.list(prefix);
  }
}
