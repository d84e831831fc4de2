import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RotationState, readRotationState, writeRotationState } from './state.ts';

describe('rotation state file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-rotstate-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const state = (): RotationState => ({
    version: 1, key: 'k', mount: 'transit', encryptionConfig: '/e.yaml', prefix: '/registry/', resources: ['secrets'],
    step: 'rewrite', fromVersion: 1, toVersion: 2, newKeyId: 'id-2', retired: false, startedAt: 'now', updatedAt: 'now',
  });

  it('round-trips and leaves no temp file behind (written by rename)', async () => {
    const f = join(dir, 's.json');
    await writeRotationState(f, state());
    const back = await readRotationState(f);
    assert.equal(back?.step, 'rewrite');
    assert.equal(back?.newKeyId, 'id-2');
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), []);
  });

  it('is undefined when absent and a coded error when damaged, never a crash', async () => {
    assert.equal(await readRotationState(join(dir, 'missing.json')), undefined);
    const f = join(dir, 'bad.json');
    for (const text of ['{"version":1', '{"version":2}', JSON.stringify({ ...state(), step: 'explode' })]) {
      await writeFile(f, text);
      await assert.rejects(readRotationState(f), (e: { code?: string }) => e.code === 'ERR_CONFIG_READ');
    }
  });
});
