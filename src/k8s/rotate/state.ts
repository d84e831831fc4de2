/**
 * State file of `arca kms rotate`: which step comes next and what earlier steps proved, written
 * atomically (temp file + rename) after every step, so an interrupted run can `--resume`.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';

export const STEPS = ['rotate-key', 'wait-plugins', 'rewrite', 'verify', 'retire', 'done'] as const;
export type StepName = (typeof STEPS)[number];

export const RotationState = z.object({
  version: z.literal(1),
  /** what the rotation is about; a resume with other values is refused */
  key: z.string(),
  mount: z.string(),
  encryptionConfig: z.string(),
  prefix: z.string(),
  resources: z.array(z.string()),
  step: z.enum(STEPS),
  /** transit version current before the rotation (recorded before the rotate call) */
  fromVersion: z.number().int().positive().optional(),
  toVersion: z.number().int().positive().optional(),
  /** the KMS key_id the plugins must report (transit version id of toVersion) */
  newKeyId: z.string().optional(),
  rewrite: z.record(z.string(), z.number()).optional(),
  /** etcd scan after the rewrite: counts by state over the covered resources */
  proof: z.object({ total: z.number(), plaintext: z.number(), current: z.number(), stale: z.number(), undecryptable: z.number() }).optional(),
  retired: z.boolean().default(false),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type RotationState = z.infer<typeof RotationState>;

export async function readRotationState(path: string): Promise<RotationState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ArcaError('ERR_CONFIG_READ', `cannot read rotation state ${path}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ArcaError('ERR_CONFIG_READ', `rotation state ${path} is not valid JSON; delete it to start over`);
  }
  const r = RotationState.safeParse(json);
  if (!r.success) throw new ArcaError('ERR_CONFIG_READ', `rotation state ${path} is not valid; delete it to start over`);
  return r.data;
}

export async function writeRotationState(path: string, s: RotationState): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}
