import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../../test/harness/arca.ts';
import { waitFor } from '../../test/harness/index.ts';
import { runArca } from './testing.ts';

const ROOT = `root-${randomBytes(12).toString('hex')}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `arca token …` against the dev server, with optional stdin. */
async function arcaWith(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
  const r = await runArca(env, args, input);
  return { code: r.code, stdout: r.out, stderr: r.stderr };
}

describe('arca token (CLI against a dev server)', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  const arca = (...args: string[]) => arcaWith(env, ['token', ...args]);
  const create = async (...args: string[]) => {
    const r = await arca('create', '-o', 'json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { token: string; token_accessor: string; token_policies: string[]; token_renewable: boolean; token_duration: number; token_type: string };
  };

  before(async () => {
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    env = { ...process.env, ARCA_ADDR: srv.addr, ARCA_TOKEN: ROOT };
  });
  after(async () => {
    await srv.stop();
  });

  it('creates a token with policies, TTL, uses and display name, and looks it up from stdin', async () => {
    const t = await create('--policy', 'app-read', '--policy', 'ops,audit', '--ttl', '1h', '--num-uses', '5', '--display-name', 'ci');
    assert.match(t.token, /\S{16,}/);
    assert.deepEqual(t.token_policies, ['app-read', 'audit', 'default', 'ops']);
    assert.ok(t.token_duration > 3500 && t.token_duration <= 3600, String(t.token_duration));
    const r = await arcaWith(env, ['token', 'lookup', '-', '-o', 'json'], `${t.token}\n`);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(info['accessor'], t.token_accessor);
    assert.equal(info['display_name'], 'token-ci');
    assert.equal(info['num_uses'], 5);
    assert.equal(info['id'], '');
    assert.equal(r.stdout.includes(t.token), false, 'a lookup never prints the token');
  });

  it('honours --no-default-policy, --renewable=false, --explicit-max-ttl and --orphan', async () => {
    const t = await create('--policy', 'p1', '--no-default-policy', '--renewable=false', '--explicit-max-ttl', '2h', '--ttl', '3h', '--orphan');
    assert.deepEqual(t.token_policies, ['p1']);
    assert.equal(t.token_renewable, false);
    assert.ok(t.token_duration <= 7200, 'the TTL is capped by the explicit max');
    const r = await arca('lookup', '--accessor', t.token_accessor, '-o', 'yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^orphan: true$/m);
    assert.match(r.stdout, /^explicit_max_ttl: 7200$/m);
    assert.match(r.stdout, /^renewable: false$/m);
    assert.equal(r.stdout.includes(t.token), false);
  });

  it('creates a token through a token role with --role, and refuses --role with --orphan', async () => {
    const w = await fetch(`${srv.addr}/v1/auth/token/roles/cli-deploy`, { method: 'POST', headers: { 'x-vault-token': ROOT }, body: JSON.stringify({ allowed_policies: ['deploy'], orphan: true, path_suffix: 'v1' }) });
    assert.equal(w.status, 204);
    const t = await create('--role', 'cli-deploy');
    assert.deepEqual(t.token_policies, ['default', 'deploy']);
    const r = await arca('lookup', '--accessor', t.token_accessor, '-o', 'json');
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual([info['path'], info['orphan']], ['auth/token/create/cli-deploy/v1', true]);
    assert.equal((await arca('create', '--role', 'cli-deploy', '--orphan')).code, 1);
  });

  it('creates a batch token with --type batch, which lookup shows and revoke refuses with the server\'s message', async () => {
    const t = await create('--policy', 'p1', '--type', 'batch', '--ttl', '10m');
    assert.match(t.token, /^hvb\./);
    assert.equal(t.token_type, 'batch');
    assert.equal(t.token_accessor, '');
    assert.equal(t.token_renewable, false);
    const r = await arcaWith(env, ['token', 'lookup', '-', '-o', 'json'], `${t.token}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Record<string, unknown>)['type'], 'batch');
    const revoke = await arcaWith(env, ['token', 'revoke', '-'], `${t.token}\n`);
    assert.equal(revoke.code, 2, revoke.stdout);
    assert.match(revoke.stderr, /batch tokens cannot be revoked/);
    assert.equal(revoke.stderr.includes(t.token), false);
  });

  it('prints a single field raw with --field', async () => {
    const r = await arca('create', '--policy', 'p', '--field', 'token_accessor');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\S+\n$/);
    const l = await arca('lookup', '--accessor', r.stdout.trim(), '-o', 'json');
    assert.equal(l.code, 0, l.stderr);
  });

  it('looks up the calling token without printing it, as a table by default', async () => {
    const r = await arca('lookup');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^policies\s+\["root"\]$/m);
    assert.equal(r.stdout.includes(ROOT), false);
  });

  it('revokes by token, by accessor and --self; a revoked token no longer looks up', async () => {
    const a = await create('--policy', 'p');
    const b = await create('--policy', 'p');
    const c = await create('--policy', 'p');
    let r = await arcaWith(env, ['token', 'revoke', '-'], a.token);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.includes(a.token), false);
    r = await arca('revoke', '--accessor', b.token_accessor);
    assert.equal(r.code, 0, r.stderr);
    r = await arcaWith({ ...env, ARCA_TOKEN: c.token }, ['token', 'revoke', '--self']);
    assert.equal(r.code, 0, r.stderr);
    const lookups = await Promise.all([a, b, c].map((t) => arca('lookup', '--accessor', t.token_accessor)));
    for (const l of lookups) {
      assert.equal(l.code, 2, 'a revoked token still looks up');
      assert.match(l.stderr, /ERR_INVALID_REQUEST/);
    }
    const self = await arcaWith({ ...env, ARCA_TOKEN: c.token }, ['token', 'lookup']);
    assert.equal(self.code, 2);
    assert.match(self.stderr, /ERR_(TOKEN_INVALID|PERMISSION_DENIED)/);
    assert.equal(self.stderr.includes(c.token), false);
  });

  it('tidy starts the expiry sweep: an expired token nobody looked up leaves the accessor list', async () => {
    const t = await create('--policy', 'p', '--ttl', '1s');
    const accessors = async () => ((await srv.client(ROOT).request('LIST', 'auth/token/accessors')).body['data'] as { keys: string[] }).keys;
    assert.ok((await accessors()).includes(t.token_accessor));
    await new Promise((r) => setTimeout(r, 2100)); // expire without a lookup (a lookup would revoke it)
    const r = await arca('tidy');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Tidy started/);
    await waitFor('the sweep', async () => ((await accessors()).includes(t.token_accessor) ? undefined : true), 60_000, 100);
    const denied = await arcaWith({ ...env, ARCA_TOKEN: (await create('--policy', 'p')).token }, ['token', 'tidy']);
    assert.equal(denied.code, 2, 'a token without update on auth/token/tidy is refused');
    assert.match(denied.stderr, /ERR_PERMISSION_DENIED/);
  });

  it('rejects bad flags as usage errors (exit 1) before calling the server', async () => {
    const cases = [
      ['revoke'],
      ['revoke', 'x', '--self'],
      ['lookup', 'x', '--accessor', 'y'],
      ['create', '--ttl', 'soon'],
      ['create', '--renewable=maybe'],
      ['create', '--num-uses', '-1'],
      ['create', '-o', 'xml'],
      ['create', '--type', 'periodic'],
    ];
    const results = await Promise.all(cases.map((args) => arca(...args)));
    for (const [i, r] of results.entries()) assert.equal(r.code, 1, `${cases[i]!.join(' ')}: ${r.stdout}${r.stderr}`);
  });

  it('fails with the server\'s code (exit 2) when the caller may not create the token', async () => {
    const limited = await create('--policy', 'p');
    const r = await arcaWith({ ...env, ARCA_TOKEN: limited.token }, ['token', 'create', '--policy', 'admin']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ERR_PERMISSION_DENIED/);
    assert.equal(r.stderr.includes(limited.token) || r.stdout.includes(limited.token), false);
  });
});
