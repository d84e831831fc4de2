import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../test/harness/index.ts';

const ARCA = fileURLToPath(new URL('../../bin/arca', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('../k8s/testdata/upstream', import.meta.url));

function arca(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(ARCA, args, { cwd }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code: typeof code === 'number' ? code : 2, stdout, stderr });
    });
  });
}

describe('arca encryption-config', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('arca-ec-');
  });
  after(async () => {
    await dir.remove();
  });

  it('generate writes a 0600 file that validate accepts, and refuses to overwrite', async () => {
    assert.equal((await arca(['encryption-config', 'generate', '--provider', 'secretbox', '--out', 'c.yaml'], dir.path)).code, 0);
    assert.equal(statSync(`${dir.path}/c.yaml`).mode & 0o777, 0o600);
    const v = await arca(['encryption-config', 'validate', 'c.yaml', '--lint'], dir.path);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /KEYS_ON_DISK/);
    assert.equal((await arca(['encryption-config', 'generate', '--provider', 'secretbox', '--out', 'c.yaml'], dir.path)).code, 1);
  });

  it('validate exits 1 with the field path for a config kube-apiserver rejects', async () => {
    const r = await arca(['encryption-config', 'validate', `${UPSTREAM}/invalid-configs/aes/invalid-key.yaml`, '-o', 'json'], dir.path);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout) as { valid: boolean; errors: { path: string }[] };
    assert.equal(j.valid, false);
    assert.equal(j.errors[0]?.path, 'resources[0].providers[0].aesgcm.keys[1].secret');
    assert.equal((await arca(['encryption-config', 'validate', `${UPSTREAM}/valid-configs/kmsv2-first.yaml`], dir.path)).code, 1); // kms v1 inside, gate off
    assert.equal((await arca(['encryption-config', 'validate', '--kms-v1', `${UPSTREAM}/valid-configs/kmsv2-first.yaml`], dir.path)).code, 0);
  });

  it('rotate writes the three staged configs, each valid and 0600', async () => {
    await arca(['encryption-config', 'generate', '--provider', 'aesgcm', '--key-name', 'old', '--out', 'r.yaml'], dir.path);
    const r = await arca(['encryption-config', 'rotate', 'r.yaml', '--out-dir', 'stages', '--new-key-name', 'new'], dir.path);
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(`${dir.path}/stages`).sort();
    assert.deepEqual(files, ['1-add-new-key.yaml', '2-new-key-first.yaml', '4-remove-old-key.yaml']);
    for (const f of files) {
      assert.equal(statSync(`${dir.path}/stages/${f}`).mode & 0o777, 0o600);
      assert.equal((await arca(['encryption-config', 'validate', `stages/${f}`], dir.path)).code, 0);
    }
  });
});
