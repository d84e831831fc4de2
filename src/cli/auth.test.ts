/**
 * `arca auth …` and `arca login kubernetes` against a dev server, with service-account tokens from
 * the TokenReview/JWKS test server of test/harness/kube-tokens.ts (documented shapes, not a real
 * kube-apiserver).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../../test/harness/arca.ts';
import { tempDir } from '../../test/harness/index.ts';
import { type KubeApiServer, startKubeApiServer } from '../../test/harness/kube-tokens.ts';
import { UsageError } from './exit.ts';
import { parseFields } from './auth.ts';
import { runArca } from './testing.ts';

const ROOT = `root-${randomBytes(12).toString('hex')}`;
const SA = { namespace: 'payments', name: 'api', uid: 'uid-api-1', audiences: ['arca'] };

async function run(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runArca(env, args);
  return { code: r.code, stdout: r.out, stderr: r.stderr };
}

describe('parseFields (key=value arguments)', () => {
  it('reads @files, turns repeated keys into lists and refuses malformed pairs', () => {
    const files: Record<string, string> = { '/ca.crt': 'PEM' };
    assert.deepEqual(parseFields(['a=1', 'b=@/ca.crt', 'a=2', 'c='], (f) => files[f]!), { a: ['1', '2'], b: 'PEM', c: '' });
    assert.throws(() => parseFields(['novalue']), UsageError);
    assert.throws(() => parseFields(['=x']), UsageError);
    assert.throws(() => parseFields(['Bad-Key=x']), UsageError);
  });
});

describe('arca auth / arca login kubernetes (CLI against a dev server)', () => {
  let srv: ArcaProcess;
  let kube: KubeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: NodeJS.ProcessEnv;
  const arca = (...args: string[]) => run(env, args);
  const ok = async (...args: string[]) => {
    const r = await arca(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    dir = await tempDir();
    kube = await startKubeApiServer();
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    env = { ...process.env, ARCA_ADDR: srv.addr, ARCA_TOKEN: ROOT };
  });
  after(async () => {
    await srv?.stop();
    await kube?.close();
    await dir?.remove();
  });

  it('enables the method, writes config and a role, logs in from a token file, and cleans up', async () => {
    await ok('auth', 'enable', 'kubernetes');
    const list = JSON.parse((await ok('auth', 'list', '-o', 'json')).stdout) as Record<string, { type: string }>;
    assert.equal(list['kubernetes/']?.type, 'kubernetes');
    await ok('auth', 'kubernetes', 'config', 'write', `oidc_discovery_url=${kube.url}`);
    const cfg = JSON.parse((await ok('auth', 'kubernetes', 'config', 'read', '-o', 'json')).stdout) as Record<string, unknown>;
    assert.equal(cfg['verification'], 'jwks');

    const noAud = await ok('auth', 'kubernetes', 'role', 'write', 'open', 'bound_service_account_names=api', 'bound_service_account_namespaces=payments');
    assert.match(noAud.stderr, /WARNING: role has no audience/);
    await ok('auth', 'kubernetes', 'role', 'write', 'app', 'bound_service_account_names=api', 'bound_service_account_names=web-*',
      'bound_service_account_namespaces=payments', 'audience=arca', 'token_policies=app-read', 'token_ttl=30m');
    const role = JSON.parse((await ok('auth', 'kubernetes', 'role', 'read', 'app', '-o', 'json')).stdout) as Record<string, unknown>;
    assert.deepEqual(role['bound_service_account_names'], ['api', 'web-*']);
    assert.equal(role['token_ttl'], 1800);
    assert.deepEqual(JSON.parse((await ok('auth', 'kubernetes', 'role', 'list', '-o', 'json')).stdout), ['app', 'open']);
    const bad = await arca('auth', 'kubernetes', 'role', 'write', 'app', 'token_num_uses=-1');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ERR_INVALID_REQUEST/);

    const jwtFile = `${dir.path}/token`;
    await writeFile(jwtFile, `${await kube.mint(SA)}\n`);
    const token = (await ok('login', 'kubernetes', '--role', 'app', '--jwt-file', jwtFile, '--field', 'token')).stdout.trim();
    assert.match(token, /^hvs\./);
    const who = await run({ ...env, ARCA_TOKEN: token }, ['token', 'lookup', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal((JSON.parse(who.stdout) as { meta: Record<string, string> }).meta['service_account_name'], 'api');

    const stored = `${dir.path}/arca-token`;
    const quiet = await ok('login', 'kubernetes', '--role', 'app', '--jwt-file', jwtFile, '--token-file', stored);
    const saved = (await readFile(stored, 'utf8')).trim();
    assert.match(saved, /^hvs\./);
    assert.equal(quiet.stdout.includes(saved), false, 'a stored token is not printed');
    assert.equal((await stat(stored)).mode & 0o777, 0o600);

    const refused = await arca('login', 'kubernetes', '--role', 'app', '--jwt-file', jwtFile, '--path', 'nope');
    assert.equal(refused.code, 2);
    const missing = await arca('login', 'kubernetes', '--role', 'app', '--jwt-file', `${dir.path}/absent`);
    assert.equal(missing.code, 1);

    await ok('auth', 'kubernetes', 'role', 'delete', 'open');
    await ok('auth', 'disable', 'kubernetes');
    assert.equal((JSON.parse((await ok('auth', 'list', '-o', 'json')).stdout) as Record<string, unknown>)['kubernetes/'], undefined);
  });

  it('enables an auth method with a token type and lease TTLs, and tunes them (arca auth enable / tune)', async () => {
    await ok('auth', 'enable', 'userpass', '--path', 'cli-up', '--token-type', 'default-batch', '--default-lease-ttl', '20m', '--max-lease-ttl', '1h');
    const list = JSON.parse((await ok('auth', 'list', '-o', 'json')).stdout) as Record<string, { config: { token_type: string; default_lease_ttl: number; max_lease_ttl: number } }>;
    assert.deepEqual(list['cli-up/']?.config, { default_lease_ttl: 1200, force_no_cache: false, max_lease_ttl: 3600, token_type: 'default-batch' });
    const tuned = await ok('auth', 'tune', 'cli-up', '--token-type', 'service', '--max-lease-ttl', '2h');
    assert.match(tuned.stdout, /Tuned the auth method at: cli-up\//);
    const after = (JSON.parse((await ok('auth', 'list', '-o', 'json')).stdout) as typeof list)['cli-up/']!.config;
    assert.deepEqual([after.token_type, after.default_lease_ttl, after.max_lease_ttl], ['service', 1200, 7200]);
    const bad = await arca('auth', 'tune', 'cli-up', '--token-type', 'batchy');
    assert.equal(bad.code, 2, 'the server refuses it');
    assert.match(bad.stderr, /token_type/);
    const empty = await arca('auth', 'tune', 'cli-up');
    assert.equal(empty.code, 1, 'nothing to tune is a usage error');
    await ok('auth', 'disable', 'cli-up');
  });
});
