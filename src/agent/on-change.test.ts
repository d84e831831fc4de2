import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../log/index.ts';
import { onChangeAction, pidsByName } from './on-change.ts';

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('on-change actions', () => {
  it('finds a process by name and signals it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arca-onchange-'));
    const marker = join(dir, 'got');
    // A copy of node under a distinctive argv[0] basename, so the lookup cannot hit anything else.
    const name = `arca-test-app-${process.pid}`;
    const child = spawn(process.execPath, ['-e', `process.on('SIGUSR2',()=>require('fs').writeFileSync(${JSON.stringify(marker)},'x'));require('fs').writeFileSync(${JSON.stringify(marker)}+'.ready','');setInterval(()=>{},1e6)`], { argv0: name, stdio: 'ignore' });
    try {
      await until('child ready', async () => (await readFile(`${marker}.ready`).then(() => true, () => false)));
      assert.deepEqual(await pidsByName(name), [child.pid]);
      await onChangeAction({ signal: 'SIGUSR2', processName: name }, silentLogger())(['a']);
      await until('signal delivered', async () => (await readFile(marker, 'utf8').catch(() => '')) === 'x');
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true });
    }
  });
  it('runs a command (argv, no shell unless asked) and waits for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arca-onchange-'));
    try {
      const out = join(dir, 'ran');
      await onChangeAction({ signal: 'SIGHUP', command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, 'ran')`] }, silentLogger())(['a']);
      assert.equal(await readFile(out, 'utf8'), 'ran');
      // A pid file naming no live process, and a missing command, only log: the sidecar keeps going.
      await writeFile(join(dir, 'pid'), '999999999');
      await onChangeAction({ signal: 'SIGHUP', pidFile: join(dir, 'pid') }, silentLogger())(['a']);
      await onChangeAction({ signal: 'SIGHUP', command: [join(dir, 'no-such-binary')] }, silentLogger())(['a']);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
