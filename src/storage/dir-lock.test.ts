import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lockDataDir } from './dir-lock.ts';

describe('lockDataDir', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second lock on the same directory until the first is released', () => {
    const a = lockDataDir(dir);
    assert.throws(() => lockDataDir(dir), { code: 'ERR_STORAGE_LOCKED' });
    a.release();
    const b = lockDataDir(dir);
    b.release();
  });

  it('refuses while another process holds it and is free again once that process is killed', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { lockDataDir } = await import(${JSON.stringify(new URL('./dir-lock.ts', import.meta.url).href)});
      lockDataDir(${JSON.stringify(dir)});
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      assert.throws(() => lockDataDir(dir), { code: 'ERR_STORAGE_LOCKED' });
    } finally {
      const exited = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await exited;
    }
    // kill -9 leaves the file behind but not the lock: the kernel dropped it with the process.
    lockDataDir(dir).release();
  });
});
