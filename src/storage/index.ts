export { type Storage, type ReadOptions, type CommitOps, type CheckedCommit, checkCommit, childrenOf, bytesEqual, prefixEnd, compareCodeUnits, validateKey } from './storage.ts';
export { InmemStorage } from './inmem.ts';
export { scanKeys, SCAN_BATCH } from './scan.ts';
export { StorageView } from './view.ts';
export { SqliteStorage, SQLITE_FILE_NAME } from './sqlite.ts';
export { PostgresStorage, type PostgresStorageOptions } from './postgres.ts';
export { lockDataDir, type DirLock, DIR_LOCK_FILE_NAME } from './dir-lock.ts';
