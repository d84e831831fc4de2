import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ArcaProcess } from '../../test/harness/arca.ts';
import { tempDir } from '../../test/harness/index.ts';
import { cliDevServer, runArca } from './testing.ts';

describe('arca secret (CLI against a dev server)', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ({ srv, env } = await cliDevServer());
  });
  after(() => srv.stop());

  const arca = async (...args: string[]) => {
    const r = await runArca(env, ['secret', ...args]);
    return { code: r.code, stdout: r.out, stderr: r.stderr };
  };

  it('puts k=v pairs and a JSON file, then gets a field, a version, and JSON output', async () => {
    assert.equal((await arca('put', 'secret/app/db', 'user=app', 'password=s3cr3t')).code, 0);
    const dir = await tempDir();
    const file = join(dir.path, 'v.json');
    writeFileSync(file, JSON.stringify({ user: 'app', password: 'n3w', port: 5432 }));
    assert.equal((await arca('put', 'secret/app/db', `@${file}`, '--cas', '1')).code, 0);
    await dir.remove();
    assert.equal((await arca('get', 'secret/app/db', '-field', 'password')).stdout, 'n3w\n');
    assert.equal((await arca('get', 'secret/app/db', '--version', '1', '--field', 'password')).stdout, 's3cr3t\n');
    const j = JSON.parse((await arca('get', 'secret/app/db', '-o', 'json')).stdout);
    assert.equal(j.metadata.version, 2);
    assert.equal(j.data.port, 5432);
    // A stale cas is refused by the server: runtime error, exit 2.
    const stale = await arca('put', 'secret/app/db', 'x=y', '--cas', '1');
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /ERR_INVALID_REQUEST/);
  });

  it('lists, deletes, undeletes and destroys versions, and edits metadata', async () => {
    await arca('put', 'secret/team/a', 'k=1');
    await arca('put', 'secret/team/b/c', 'k=2');
    assert.deepEqual(JSON.parse((await arca('list', 'secret/team', '-o', 'json')).stdout).keys, ['a', 'b/']);
    assert.equal((await arca('delete', 'secret/team/a')).code, 0);
    assert.equal((await arca('get', 'secret/team/a')).code, 2);
    assert.equal((await arca('undelete', 'secret/team/a', '--versions', '1')).code, 0);
    assert.equal((await arca('get', 'secret/team/a', '-field', 'k')).stdout, '1\n');
    assert.equal((await arca('destroy', 'secret/team/a', '--versions', '1')).code, 0);
    assert.equal((await arca('metadata', 'put', 'secret/team/a', '--max-versions', '3', '--custom-metadata', 'owner=ops')).code, 0);
    const m = JSON.parse((await arca('metadata', 'get', 'secret/team/a', '-o', 'json')).stdout);
    assert.equal(m.max_versions, 3);
    assert.deepEqual(m.custom_metadata, { owner: 'ops' });
    assert.equal(m.versions['1'].destroyed, true);
    const s = JSON.parse((await arca('search', '--metadata', 'owner=ops', '-o', 'json')).stdout);
    assert.deepEqual(s.keys, ['team/a']);
  });

  it('reports a missing secret and bad usage with distinct exit codes', async () => {
    const missing = await arca('get', 'secret/nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ERR_NOT_FOUND/);
    assert.equal((await arca('put', 'secret/x', 'novalue')).code, 1);
    assert.equal((await arca('destroy', 'secret/x')).code, 1);
  });

  it('takes the API path secret/data/<path> and the CLI form secret/<path> as the same secret', async () => {
    assert.equal((await arca('put', 'secret/data/forms/db', 'password=one')).code, 0);
    assert.equal((await arca('get', 'secret/forms/db', '--field', 'password')).stdout, 'one\n');
    assert.equal((await arca('put', 'secret/forms/db', 'password=two')).code, 0);
    assert.equal((await arca('get', 'secret/data/forms/db', '--field', 'password')).stdout, 'two\n');
    // With --mount the path is literal: a secret named data/x is its own secret.
    assert.equal((await arca('put', '--mount', 'secret', 'data/x', 'k=literal')).code, 0);
    assert.equal((await arca('get', 'secret/data/data/x', '--field', 'k')).stdout, 'literal\n');
  });

  it('says which version is missing when --version names one that does not exist', async () => {
    assert.equal((await arca('put', 'secret/versioned', 'k=1')).code, 0);
    const r = await arca('get', 'secret/versioned', '--version', '9');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ERR_NOT_FOUND: .*no version 9/);
  });
});
