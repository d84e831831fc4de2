import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../errors/index.ts';
import { backoffDelay } from './backoff.ts';
import { buildConfig, parseEnvFlag, parseSecretFlag } from './config.ts';
import { isCurrent, writeAtomic } from './writer.ts';

const io = { readFile: () => 'tpl {{data.a}}' };
const base = { auth: { type: 'token-file', tokenFile: '/t' }, dir: '/out' };
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isArcaError(err, 'ERR_CONFIG_INVALID'), String(err));
    return err.message;
  }
  assert.fail('no error');
}

describe('agent config', () => {
  it('parses --secret and --env shorthands', () => {
    assert.deepEqual(parseSecretFlag('db.env=secret/app/db:env'), { name: 'db.env', path: 'secret/app/db', format: 'env' });
    assert.deepEqual(parseSecretFlag('pw=secret/app/db@3#password:raw'), { name: 'pw', path: 'secret/app/db@3', field: 'password', format: 'raw' });
    assert.deepEqual(parseSecretFlag('j=secret/app/db'), { name: 'j', path: 'secret/app/db' });
    assert.deepEqual(parseEnvFlag('PW=secret/app/db#password'), { name: 'PW', path: 'secret/app/db', field: 'password' });
    assert.throws(() => parseSecretFlag('nope'), (e) => isArcaError(e, 'ERR_CONFIG_INVALID'));
    assert.throws(() => parseEnvFlag('PW=secret/app/db'), (e) => isArcaError(e, 'ERR_CONFIG_INVALID'));
  });
  it('builds frozen targets with defaults: mode 0600, file in dir, version from @N, 30 s interval', () => {
    const c = buildConfig({ ...base, secrets: [{ name: 'a', path: 'secret/data/app/db@4', field: 'x' }] }, io);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.secrets[0]));
    assert.equal(c.interval, 30_000);
    const t = c.secrets[0]!;
    assert.deepEqual([t.file, t.mode, t.version, t.ref.mount, t.ref.path, t.renderer.format], ['/out/a', 0o600, 4, 'secret', 'app/db', 'raw']);
    const k = buildConfig({ auth: { type: 'kubernetes', role: 'r' }, secrets: [{ name: 'a', path: 'secret/x', destination: '/abs/a', mode: '0640', templateFile: '/t.tpl' }] }, io);
    assert.equal(k.auth.type === 'kubernetes' && k.auth.tokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(k.secrets[0]!.mode, 0o640);
    assert.equal(k.secrets[0]!.renderer.format, 'template');
  });
  it('names the offending field in every error', () => {
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a', path: 'secret/x', mode: '0644' }] }, io)), /secrets\.0\.mode/);
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a/b', path: 'secret/x' }] }, io)), /secrets\.0\.name/);
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a', path: 'secret/x', format: 'xml' }] }, io)), /secrets\.0\.format/);
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a', path: 'secret/x', template: '{{> p}}' }] }, io)), /secrets\.0\.template/);
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a', path: 'nomount' }] }, io)), /secrets\.0\.path/);
    assert.match(message(() => buildConfig({ ...base, interval: '10ms' }, io)), /interval/);
    assert.match(message(() => buildConfig({ ...base, secrets: [{ name: 'a', path: 's/x' }, { name: 'a', path: 's/y' }] }, io)), /secrets\.1\.name/);
    assert.match(message(() => buildConfig({ auth: { type: 'kubernetes' } }, io)), /auth\.role/);
    assert.match(message(() => buildConfig({ ...base, env: [{ name: '1X', path: 's/x', field: 'f' }] }, io)), /env\.0\.name/);
    assert.match(message(() => buildConfig({ ...base, bogus: 1 }, io)), /bogus|root/);
  });
  it('never answers anything but ERR_CONFIG_INVALID or a config (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        try {
          buildConfig(v, io);
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_CONFIG_INVALID'), String(err));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('agent config: templates over several secrets', () => {
  const spec = (over: Record<string, unknown>) => ({ ...base, secrets: [{ name: 'app.conf', path: 'secret/app/db', template: '{{secrets.cache.data.host}}', ...over }] });
  it('resolves each alias to a reference read at its current version', () => {
    const c = buildConfig(spec({ secrets: { cache: 'secret/app/redis', api_key: 'secret/data/app/api' } }), io);
    assert.deepEqual(
      c.secrets[0]!.others.map((o) => [o.alias, o.ref.mount, o.ref.path]),
      [['cache', 'secret', 'app/redis'], ['api_key', 'secret', 'app/api']],
    );
    assert.deepEqual(buildConfig(spec({}), io).secrets[0]!.others, []);
  });
  it('refuses other secrets without a template, pinned versions and unclean aliases, naming the field', () => {
    assert.match(message(() => buildConfig(spec({ template: undefined, format: 'env', secrets: { cache: 'secret/app/redis' } }), io)), /secrets\.0\.secrets: only a template/);
    assert.match(message(() => buildConfig(spec({ version: 2, secrets: { cache: 'secret/app/redis' } }), io)), /secrets\.0\.version/);
    assert.match(message(() => buildConfig(spec({ secrets: { cache: 'secret/app/redis@3' } }), io)), /secrets\.0\.secrets\.cache/);
    assert.match(message(() => buildConfig(spec({ secrets: { 'a.b': 'secret/app/redis' } }), io)), /secrets\.0\.secrets/);
    assert.match(message(() => buildConfig(spec({ secrets: {} }), io)), /list 1 to 16/);
  });
});

describe('backoff', () => {
  it('grows exponentially, is jittered into [½, 1) of the step and capped', () => {
    assert.equal(backoffDelay(0, 1000, 30_000, () => 0), 500);
    assert.equal(backoffDelay(3, 1000, 30_000, () => 0.999999), 8000);
    assert.equal(backoffDelay(50, 1000, 30_000, () => 0), 15_000);
  });
});

describe('atomic writer', () => {
  it('writes with the mode, leaves no temp file, and reports current content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arca-writer-'));
    try {
      const f = join(dir, 'a');
      const bytes = new TextEncoder().encode('v1');
      assert.equal(await isCurrent(f, bytes, { mode: 0o640 }), false);
      await writeAtomic(f, bytes, { mode: 0o640 });
      assert.equal((await stat(f)).mode & 0o777, 0o640);
      assert.equal(await readFile(f, 'utf8'), 'v1');
      assert.equal(await isCurrent(f, bytes, { mode: 0o640 }), true);
      assert.equal(await isCurrent(f, bytes, { mode: 0o600 }), false);
      assert.deepEqual(await readdir(dir), ['a']);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
  it('fails coded, naming the file, and leaves the old content when the directory is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arca-writer-'));
    await writeFile(join(dir, 'keep'), 'old');
    await rm(dir, { recursive: true });
    await assert.rejects(writeAtomic(join(dir, 'x'), new Uint8Array([1]), { mode: 0o600 }), (e) => isArcaError(e, 'ERR_AGENT_WRITE_FAILED') && e.message.includes(join(dir, 'x')));
  });
});
