/**
 * A fresh SoftHSM2 token in a temp dir. SoftHSM reads SOFTHSM2_CONF when the module is initialised,
 * so set `process.env.SOFTHSM2_CONF = token.conf` (or pass `token.env` to a child) before C_Initialize.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileP, tempDir } from './util.ts';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  module: string;
  conf: string;
  label: string;
  pin: string;
  dir: string;
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function createSoftHsmToken(label = 'arca-test', pin = '1234'): Promise<SoftHsmToken> {
  if (!existsSync(SOFTHSM_MODULE)) throw new Error('SoftHSM2 is not installed (apt-get install softhsm2)');
  const dir = await tempDir('arca-hsm-');
  const tokens = `${dir.path}/tokens`;
  await mkdir(tokens);
  const conf = `${dir.path}/softhsm2.conf`;
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  await execFileP('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
  });
  return {
    module: SOFTHSM_MODULE,
    conf,
    label,
    pin,
    dir: dir.path,
    env: { SOFTHSM2_CONF: conf },
    remove: dir.remove,
  };
}
