/**
 * `arca operator snapshot restore --offline`: a snapshot into the empty store a server config names
 * (disaster recovery), with the server stopped. Takes the data-dir lock as the server does, so it
 * cannot write under a running server.
 */
import type { ServerConfig } from '../config/index.ts';
import { restoreIntoEmpty } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';
import { lockDataDir } from '../storage/index.ts';
import { openStorage } from './assemble.ts';

export async function restoreOffline(c: Readonly<ServerConfig>, file: Uint8Array): Promise<{ written: number; initId: string; storage: string }> {
  if (c.storage.type === 'inmem') throw new ArcaError('ERR_INVALID_REQUEST', 'storage inmem lives in a server process: restore through its API instead (without --offline)');
  const lock = c.dataDir ? lockDataDir(c.dataDir) : undefined;
  try {
    const { storage, type } = await openStorage(c, c.dataDir);
    try {
      return { ...(await restoreIntoEmpty(storage, file)), storage: type };
    } finally {
      await storage.close();
    }
  } finally {
    lock?.release();
  }
}
