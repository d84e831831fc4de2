/**
 * Resume state of `arca etcd rewrite`: the last key of the last fully processed page, per key
 * range, written atomically (temp file + rename) after every page.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ArcaError } from './deps.ts';

export const RewriteState = z.object({
  version: z.literal(1),
  prefix: z.string(),
  resources: z.array(z.string()),
  /** index into the list of key ranges being processed */
  rangeIndex: z.number().int().nonnegative(),
  /** every key ≤ lastKey in that range is done */
  lastKey: z.string().optional(),
  stats: z.record(z.string(), z.number()),
  updatedAt: z.string(),
});
export type RewriteState = z.infer<typeof RewriteState>;

export async function readState(path: string): Promise<RewriteState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ArcaError('ERR_CONFIG_READ', `cannot read resume state ${path}`, { cause: err });
  }
  const r = RewriteState.safeParse(JSON.parse(text));
  if (!r.success) throw new ArcaError('ERR_CONFIG_READ', `resume state ${path} is not valid; delete it to start over`);
  return r.data;
}

export async function writeState(path: string, s: RewriteState): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(s)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

export async function removeState(path: string): Promise<void> {
  await rm(path, { force: true });
}
