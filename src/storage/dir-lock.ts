/**
 * An exclusive lock on a server's data directory, so two servers never share one (they would
 * interleave the audit spool and each believe its in-memory state is the truth).
 *
 * The lock is an SQLite database (`arca.lock`) held in EXCLUSIVE locking mode: SQLite takes a POSIX
 * advisory lock on the file and keeps it for the connection's life. The kernel drops it when the
 * process dies, however it dies (kill -9 included), so there is no stale lock file to clean up and
 * no pid to trust; and SQLite also refuses a second connection from the same process.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ArcaError } from '../errors/index.ts';

export const DIR_LOCK_FILE_NAME = 'arca.lock';

export interface DirLock {
  release(): void;
}

export function lockDataDir(dir: string): DirLock {
  const path = join(dir, DIR_LOCK_FILE_NAME);
  let db: Database.Database | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    // timeout 0: a held lock is an answer, not something to wait for.
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write transaction takes the exclusive lock; EXCLUSIVE mode never gives it back.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (' + process.pid + '); COMMIT');
  } catch (err) {
    db?.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new ArcaError('ERR_STORAGE_LOCKED', `data directory ${dir} is in use by another arca server; stop that server or choose another --data-dir`, { cause: err });
    }
    throw new ArcaError('ERR_STORAGE_UNAVAILABLE', `cannot lock data directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const held = db;
  return {
    release() {
      if (held.open) held.close();
    },
  };
}
