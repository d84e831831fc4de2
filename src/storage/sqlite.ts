/**
 * SqliteStorage: the single-node Storage, one SQLite file (better-sqlite3) in the data dir.
 *
 *   const s = SqliteStorage.open('/var/lib/arca/arca.db');   // or SqliteStorage.openInDir(dataDir)
 *
 * better-sqlite3 is synchronous, so every call runs to completion on the event loop: concurrent
 * callers are serialised for free and putIf's read-compare-write cannot interleave in-process.
 * `BEGIN IMMEDIATE` additionally excludes other processes (e.g. an offline operator tool).
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ArcaError } from '../errors/index.ts';
import { prefixUpperBound } from './key-range.ts';
import { bytesEqual, type CheckedCommit, checkCommit, childrenOf, type CommitOps, compareCodeUnits, type Storage, validateKey } from './storage.ts';

/** File name used inside the server's data dir. */
export const SQLITE_FILE_NAME = 'arca.db';

/** How long a statement waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

type Row = { value: Buffer };

export class SqliteStorage implements Storage {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #get: Database.Statement<[string], Row>;
  readonly #put: Database.Statement<[string, Buffer]>;
  readonly #del: Database.Statement<[string]>;
  readonly #rangeFrom: Database.Statement<[string], string>;
  readonly #rangeBetween: Database.Statement<[string, string], string>;
  readonly #insertAbsent: Database.Statement<[string, Buffer]>;
  readonly #all: Database.Statement<[], { key: string; value: Buffer }>;
  readonly #putIfTx: (key: string, value: Buffer, expected: Uint8Array | undefined) => boolean;
  readonly #commitTx: (c: CheckedCommit) => boolean;

  private constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.#path = path;
    this.#get = db.prepare<[string], Row>('SELECT value FROM kv WHERE key = ?');
    this.#put = db.prepare<[string, Buffer]>(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.#del = db.prepare<[string]>('DELETE FROM kv WHERE key = ?');
    this.#rangeFrom = db.prepare<[string], string>('SELECT key FROM kv WHERE key >= ? ORDER BY key').pluck();
    this.#rangeBetween = db
      .prepare<[string, string], string>('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key')
      .pluck();
    this.#insertAbsent = db.prepare<[string, Buffer]>('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
    this.#all = db.prepare<[], { key: string; value: Buffer }>('SELECT key, value FROM kv');
    const tx = db.transaction((key: string, value: Buffer, expected: Uint8Array | undefined): boolean => {
      if (expected === undefined) return this.#insertAbsent.run(key, value).changes === 1;
      const cur = this.#get.get(key);
      if (cur === undefined || !bytesEqual(cur.value, expected)) return false;
      this.#put.run(key, value);
      return true;
    });
    // IMMEDIATE takes the write lock up front, so a concurrent writer in another process cannot
    // change the row between our read and our write.
    this.#putIfTx = (key, value, expected) => tx.immediate(key, value, expected);
    // One transaction, so one WAL commit and one fsync however many keys it touches.
    const commitTx = db.transaction((c: CheckedCommit): boolean => {
      for (const [key, expected] of c.expect) {
        if (!bytesEqual(this.#get.get(key)?.value, expected)) return false;
      }
      for (const [key, value] of c.puts) this.#put.run(key, toBuffer(value));
      for (const key of c.deletes) this.#del.run(key);
      return true;
    });
    // A relaxed commit (Storage.commit) skips the WAL fsync for itself only: NORMAL in WAL mode still
    // never loses half a transaction, and the next FULL commit's fsync covers it. The connection is
    // this object's alone and calls run to completion, so no other commit can see the NORMAL setting.
    const relaxed = db.prepare('PRAGMA synchronous = NORMAL');
    const full = db.prepare('PRAGMA synchronous = FULL');
    this.#commitTx = (c) => {
      if (!c.relaxed) return commitTx.immediate(c);
      relaxed.run();
      try {
        return commitTx.immediate(c);
      } finally {
        full.run();
      }
    };
  }

  /** Opens (creating if needed, mode 0600 in a 0700 directory) the database file at `path`. */
  static open(path: string): SqliteStorage {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it is never world-readable, even briefly. SQLite gives the
      // -wal and -shm files the same mode as the main file.
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      // The Storage contract says an acknowledged put survives kill -9. In WAL mode a commit is in
      // the OS page cache once the write() returns, which already survives a process kill (that is
      // what durability.test.ts shows). synchronous=FULL also fsyncs the WAL on every commit,
      // which is what a power loss or kernel crash needs (NORMAL could lose the last commits
      // there) — argued, not tested: no test here cuts power, and it also relies on the disk
      // honouring fsync. Arca's writes are few and small (secrets, keys, leases), so the fsync
      // per commit is affordable; the one frequent write, a login's token, asks for relaxed
      // durability (see the constructor).
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = OFF');
      db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID');
      return new SqliteStorage(db, path);
    } catch (err) {
      db?.close();
      throw new ArcaError('ERR_STORAGE_UNAVAILABLE', `cannot open SQLite database ${path}: ${reason(err)}`, { cause: err });
    }
  }

  /** Opens `<dataDir>/arca.db`. */
  static openInDir(dataDir: string): SqliteStorage {
    return SqliteStorage.open(join(dataDir, SQLITE_FILE_NAME));
  }

  get path(): string {
    return this.#path;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const row = this.#run(() => this.#get.get(key));
    return row === undefined ? undefined : new Uint8Array(row.value);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    this.#run(() => this.#put.run(key, toBuffer(value)));
  }

  async delete(key: string): Promise<void> {
    this.#run(() => this.#del.run(key));
  }

  async list(prefix: string): Promise<string[]> {
    const upper = prefixUpperBound(prefix);
    const keys = this.#run(() => (upper === undefined ? this.#rangeFrom.all(prefix) : this.#rangeBetween.all(prefix, upper)));
    return childrenOf(prefix, keys);
  }

  async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    validateKey(key);
    return this.#run(() => this.#putIfTx(key, toBuffer(value), expected));
  }

  async commit(ops: CommitOps): Promise<boolean> {
    const c = checkCommit(ops);
    if (c.puts.length === 0 && c.deletes.length === 0 && c.expect.length === 0) return true;
    return this.#run(() => this.#commitTx(c));
  }

  /** One SELECT: SQLite reads it from one snapshot of the database. */
  async snapshot(): Promise<[string, Uint8Array][]> {
    const rows = this.#run(() => this.#all.all());
    return rows.map((r): [string, Uint8Array] => [r.key, new Uint8Array(r.value)]).sort(([a], [b]) => compareCodeUnits(a, b));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /** The connection's durability settings (per connection, so only this object can report them). */
  durabilitySettings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    const sync = Number(this.#db.pragma('synchronous', { simple: true }));
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
    };
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ArcaError) throw err;
      throw new ArcaError('ERR_STORAGE_UNAVAILABLE', `SQLite storage ${this.#path} failed: ${reason(err)}`, { cause: err });
    }
  }
}

/** A Buffer over the caller's bytes without copying: SQLite copies when binding. */
function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function reason(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : 'unknown error';
}
