/**
 * Issue 17: the provider's file bytes are the agent's. The same secret and the same specs (field,
 * each format, a template over several keys) go through `arca agent init` (files on disk) and
 * through `arca csi-provider` Mount (files in the response); both use src/render, and the bytes
 * must be identical.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { mountAttributes } from '../../src/k8s/csi/testing.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { execFileP } from '../harness/index.ts';
import { type CsiWorld, startCsiWorld } from './csi-world.ts';

const TEMPLATE = 'postgres://{{data.username}}:{{data.password}}@db.payments.svc:5432/app?v={{metadata.version}}\n';
// name → [agent spec fields, CSI object fields]
const CASES: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['password', { field: 'password' }, { secretKey: 'password' }],
  ['db.env', { format: 'env' }, { format: 'env' }],
  ['db.json', {}, {}],
  ['db.yaml', { format: 'yaml' }, { format: 'yaml' }],
  ['db.properties', { format: 'properties' }, { format: 'properties' }],
  ['port.json', { format: 'json', field: 'port' }, { format: 'json', secretKey: 'port' }],
  ['dsn', { template: TEMPLATE }, { template: TEMPLATE }],
];

describe('csi provider and agent render the same bytes', () => {
  let w: CsiWorld;
  before(async () => {
    w = await startCsiWorld({ audit: false });
    // Values chosen to exercise quoting in every format: quotes, spaces, =, :, #, newlines, unicode.
    await w.root.write('secret/data/app/db', { data: { username: "o'brien app", password: 'p@ss=w:rd #1\n"x"\tü', port: 5432, yes: 'no' } });
  });
  after(async () => {
    await w?.stop();
  });

  it('gives byte-identical files for a field, each format and a multi-key template', async () => {
    const dir = join(w.dir, 'agent-out');
    await mkdir(dir);
    const tokenFile = join(w.dir, 'sa-token');
    await writeFile(tokenFile, await w.token());
    const config = join(w.dir, 'agent.yaml');
    await writeFile(
      config,
      stringify({ addr: w.srv.addr, dir, auth: { type: 'kubernetes', role: 'app', tokenFile }, secrets: CASES.map(([name, spec]) => ({ name, path: 'secret/app/db', ...spec })) }),
    );
    await execFileP(ARCA_BIN, ['agent', 'init', '--config', config], { env: { ...process.env, ARCA_LOG_LEVEL: 'error' } });

    const objects = stringify(CASES.map(([name, , spec]) => ({ objectName: name, secretPath: 'secret/data/app/db', ...spec })));
    const { res, message } = await w.client.mount({ attributes: mountAttributes({ token: await w.token(), objects }), secrets: '{}', target_path: '/nonexistent', permission: '420' });
    assert.equal(res.error?.code ?? '', '', message);
    const files = new Map(res.files.map((f) => [f.path, f.contents]));
    for (const [name] of CASES) {
      const agent = await readFile(join(dir, name));
      assert.ok(agent.length > 0, name);
      assert.deepEqual(files.get(name), agent, `${name}: csi bytes differ from agent bytes`);
    }
    assert.match(files.get('dsn')!.toString(), /^postgres:\/\/o'brien app:p@ss=w:rd #1\n"x"\tü@db\.payments\.svc:5432\/app\?v=1\n$/);
  });

  it('gives byte-identical files for a template over several secrets, and follows a change of the other secret', async () => {
    await w.root.write('secret/data/app/redis', { data: { host: 'redis.cache.svc', password: "r'pw: #2" } });
    const tpl = 'db={{data.username}}:{{data.password}}\n{{#secrets.cache}}redis={{data.host}} pw={{data.password}} v{{metadata.version}}{{/secrets.cache}}\n';
    const dir = join(w.dir, 'agent-multi');
    await mkdir(dir);
    const tokenFile = join(w.dir, 'sa-token-multi');
    await writeFile(tokenFile, await w.token());
    const config = join(w.dir, 'agent-multi.yaml');
    await writeFile(
      config,
      stringify({ addr: w.srv.addr, dir, auth: { type: 'kubernetes', role: 'app', tokenFile }, secrets: [{ name: 'app.conf', path: 'secret/app/db', template: tpl, secrets: { cache: 'secret/app/redis' } }] }),
    );
    await execFileP(ARCA_BIN, ['agent', 'init', '--config', config], { env: { ...process.env, ARCA_LOG_LEVEL: 'error' } });
    const objects = stringify([{ objectName: 'app.conf', secretPath: 'secret/data/app/db', template: tpl, secretPaths: { cache: 'secret/data/app/redis' } }]);
    const mountOnce = async () => {
      const { res, message } = await w.client.mount({ attributes: mountAttributes({ token: await w.token(), objects }), secrets: '{}', target_path: '/nonexistent', permission: '420' });
      assert.equal(res.error?.code ?? '', '', message);
      return res;
    };
    const first = await mountOnce();
    assert.deepEqual(first.files[0]?.contents, await readFile(join(dir, 'app.conf')), 'csi bytes differ from agent bytes');
    assert.equal(first.files[0]!.contents.toString(), `db=o'brien app:p@ss=w:rd #1\n"x"\tü\nredis=redis.cache.svc pw=r'pw: #2 v1\n`);
    await w.root.write('secret/data/app/redis', { data: { host: 'redis2.cache.svc', password: 'x' } });
    const second = await mountOnce();
    assert.match(second.files[0]!.contents.toString(), /redis=redis2\.cache\.svc pw=x v2/);
    assert.notEqual(second.object_version[0]!.version, first.object_version[0]!.version);
  });
});
