import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FileDevice } from '../audit/index.ts';
import { openTestBroker, requestInput } from '../audit/test-util.ts';
import { tempDir } from '../../test/harness/index.ts';

const run = promisify(execFile);
const ARCA = join(import.meta.dirname, '..', '..', 'bin', 'arca');

async function arca(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(ARCA, args);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('arca audit verify', () => {
  let dir: { path: string; remove(): Promise<void> };
  let log: string;
  let publicKey: string;
  before(async () => {
    dir = await tempDir('arca-cli-audit-');
    log = join(dir.path, 'audit.log');
    const b = await openTestBroker({ spoolDir: join(dir.path, 'spool'), devices: [new FileDevice({ path: log })], checkpointEvery: 4 });
    publicKey = b.publicKey;
    for (let i = 0; i < 10; i++) await b.log(requestInput(i));
    await b.close();
  });
  after(() => dir.remove());

  it('exits 0 on an untouched log and pins the key when given', async () => {
    const r = await arca(['audit', 'verify', log, '--public-key', publicKey]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: /);
    const keyFile = join(dir.path, 'key.b64');
    await writeFile(keyFile, publicKey);
    const j = await arca(['audit', 'verify', log, '--public-key', `@${keyFile}`, '-o', 'json']);
    assert.equal(j.code, 0);
    assert.equal((JSON.parse(j.stdout) as { ok: boolean }).ok, true);
  });

  it('exits 1 naming file and line of a deleted entry', async () => {
    const lines = (await readFile(log, 'utf8')).split('\n');
    lines.splice(3, 1);
    const bad = join(dir.path, 'deleted.log');
    await writeFile(bad, lines.join('\n'));
    const r = await arca(['audit', 'verify', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^TAMPERED: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4 `));
  });

  it('exits 3, not 1, when the chain is intact but its tail has no checkpoint yet', async () => {
    const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    assert.match(lines.at(-1)!, /"type":"checkpoint"/);
    const live = join(dir.path, 'live.log');
    await writeFile(live, `${lines.slice(0, -1).join('\n')}\n`);
    const r = await arca(['audit', 'verify', live]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /^NOT PROVEN: /);
    const j = await arca(['audit', 'verify', live, '-o', 'json']);
    assert.equal(j.code, 3);
    assert.equal((JSON.parse(j.stdout) as { status: string }).status, 'unproven');
  });

  it('exits 2 when a file cannot be read', async () => {
    const r = await arca(['audit', 'verify', join(dir.path, 'missing.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ERR_CONFIG_READ/);
  });
});
