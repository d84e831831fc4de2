import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../../test/harness/arca.ts';
import { tempDir } from '../../test/harness/index.ts';
import { runArca } from './testing.ts';

const ROOT = `root-${randomBytes(12).toString('hex')}`;

const HCL = `# app can read its own secrets
path "secret/data/app/*" {
  capabilities = ["read"]
}
`;
const YAML = `path:
  secret/data/ops/*:
    capabilities: [read, create, update]
`;

describe('arca policy (CLI against a dev server)', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  let dir: { path: string; remove(): Promise<void> };
  const arca = (...args: string[]) => runArca(env, ['policy', ...args]);

  before(async () => {
    dir = await tempDir('arca-policy-cli-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    env = { ...process.env, ARCA_ADDR: srv.addr, ARCA_TOKEN: ROOT };
  });
  after(async () => {
    await srv.stop();
    await dir.remove();
  });

  it('writes HCL from a file and YAML from stdin, and reads them back verbatim', async () => {
    const file = join(dir.path, 'app.hcl');
    writeFileSync(file, HCL);
    const [w1, w2] = await Promise.all([arca('write', 'app-read', file), runArca(env, ['policy', 'write', 'ops', '-'], YAML)]);
    assert.equal(w1.code, 0, w1.stderr);
    assert.match(w1.out, /app-read/);
    assert.equal(w2.code, 0, w2.stderr);
    const [table, json] = await Promise.all([arca('read', 'app-read'), arca('read', 'ops', '-o', 'json')]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.out, HCL);
    assert.deepEqual(JSON.parse(json.out), { name: 'ops', policy: YAML });
  });

  it('enforces a written policy on a token that carries it', async () => {
    const file = join(dir.path, 'only-app.hcl');
    writeFileSync(file, HCL);
    assert.equal((await arca('write', 'only-app', file)).code, 0);
    const root = srv.client(ROOT);
    const child = srv.client();
    try {
      await root.call('POST', 'secret/data/app/db', { data: { p: '1' } });
      await root.call('POST', 'secret/data/other/db', { data: { p: '2' } });
      const created = await root.call('POST', 'auth/token/create', { policies: ['only-app'] });
      child.token = (created.body as { auth: { client_token: string } }).auth.client_token;
      assert.equal((await child.request('GET', 'secret/data/app/db')).status, 200);
      assert.equal((await child.request('GET', 'secret/data/other/db')).status, 403);
    } finally {
      root.close();
      child.close();
    }
  });

  it('lists policies as a table, JSON and YAML', async () => {
    const file = join(dir.path, 'listed.hcl');
    writeFileSync(file, HCL);
    assert.equal((await arca('write', 'listed', file)).code, 0);
    const [table, json, yaml] = await Promise.all([arca('list'), arca('list', '-o', 'json'), arca('list', '-o', 'yaml')]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.out, /^Policies\n/);
    assert.match(table.out, /^listed$/m);
    const names = JSON.parse(json.out) as string[];
    assert.ok(names.includes('listed') && names.includes('default') && names.includes('root'), json.out);
    assert.match(yaml.out, /^- listed$/m);
  });

  it('deletes a policy; reading it afterwards fails with ERR_NOT_FOUND', async () => {
    const file = join(dir.path, 'gone.hcl');
    writeFileSync(file, HCL);
    assert.equal((await arca('write', 'gone', file)).code, 0);
    const d = await arca('delete', 'gone');
    assert.equal(d.code, 0, d.stderr);
    const [r, l] = await Promise.all([arca('read', 'gone'), arca('list', '-o', 'json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ERR_NOT_FOUND/);
    assert.equal((JSON.parse(l.out) as string[]).includes('gone'), false);
  });

  it('reports invalid policies and protected names with the server\'s code (exit 2)', async () => {
    const bad = join(dir.path, 'bad.hcl');
    writeFileSync(bad, 'path "secret/*" { capabilities = ["fly"] }\n');
    const [w, delDefault] = await Promise.all([arca('write', 'bad', bad), arca('delete', 'default')]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /ERR_INVALID_REQUEST/);
    assert.equal(delDefault.code, 2);
    assert.match(delDefault.stderr, /ERR_INVALID_REQUEST/);
  });

  it('rejects a missing file, empty stdin and a bad name as usage errors (exit 1)', async () => {
    const results = await Promise.all([
      arca('write', 'p', join(dir.path, 'does-not-exist.hcl')),
      runArca(env, ['policy', 'write', 'p', '-'], '  \n'),
      arca('read', 'a/b'),
      arca('list', '-o', 'xml'),
    ]);
    for (const r of results) assert.equal(r.code, 1, r.out + r.stderr);
  });
});
