/**
 * Atomic file writes for rendered secrets: a temp file in the same directory (same filesystem, so
 * rename(2) is atomic), created with O_EXCL and the final mode, chmod'ed again past the umask,
 * optionally chown'ed, fsync'ed, then renamed over the target. A reader sees the old file or the
 * new one, never a partial one, and a failure leaves the old file as it was.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArcaError } from '../errors/index.ts';

export interface FileOptions {
  mode: number;
  uid?: number | undefined;
  gid?: number | undefined;
}

/** Whether `file` already holds exactly `bytes` with the wanted mode and owner (so no write is needed). */
export async function isCurrent(file: string, bytes: Uint8Array, o: FileOptions): Promise<boolean> {
  try {
    const st = await stat(file);
    if ((st.mode & 0o777) !== o.mode || st.size !== bytes.length) return false;
    if ((o.uid !== undefined && st.uid !== o.uid) || (o.gid !== undefined && st.gid !== o.gid)) return false;
    return Buffer.from(await readFile(file)).equals(bytes);
  } catch {
    return false;
  }
}

export async function writeAtomic(file: string, bytes: Uint8Array, o: FileOptions): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.arca-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let created = false;
  try {
    const fh = await open(tmp, 'wx', o.mode);
    created = true;
    try {
      await fh.chmod(o.mode);
      if (o.uid !== undefined || o.gid !== undefined) await fh.chown(o.uid ?? -1, o.gid ?? -1);
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    created = false;
  } catch (err) {
    throw new ArcaError('ERR_AGENT_WRITE_FAILED', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  } finally {
    if (created) await unlink(tmp).catch(() => undefined);
  }
}
