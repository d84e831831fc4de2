/**
 * Key holders' operations on real servers (SQLite). Break-glass root token generation (Shamir 3/2)
 * with the initial root token revoked, as docs/governance.md advises: `arca operator generate-root` run by two key holders, the
 * token decoded with the OTP and used; then the same with node-vault (a Vault client from npm,
 * unchanged). The file audit device's log holds neither a key share, the OTP, the encoded token nor
 * the token. Then a rekey with `arca operator rekey`: after a restart only the new shares unseal.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import nodeVault from 'node-vault';
import { runArca } from '../../src/cli/testing.ts';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

describe('generate a root token from key shares (sys/generate-root)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let keys: string[];
  let env: NodeJS.ProcessEnv;
  const secrets: string[] = [];
  const minted: { token: string; accessor: string }[] = [];

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    const c = srv.client();
    const init = (await c.write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as { keys: string[]; root_token: string };
    keys = init.keys;
    for (const k of keys.slice(0, 2)) await c.write('sys/unseal', { key: k });
    const root = srv.client(init.root_token);
    assert.equal((await root.write('sys/audit/file', { type: 'file', options: { file_path: `${dir.path}/audit.log` } })).status, 204);
    assert.equal((await root.write('auth/token/revoke-self', {})).status, 204);
    assert.equal((await root.request('GET', 'auth/token/lookup-self')).status, 403, 'the initial root token is gone');
    const { VAULT_TOKEN: _t, VAULT_ADDR: _a, ARCA_TOKEN: _r, ...base } = process.env;
    env = { ...base, ARCA_ADDR: srv.addr };
    secrets.push(...keys, init.root_token);
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('two key holders with the CLI, no token: the decoded token is a working root token', async () => {
    const started = await runArca(env, ['operator', 'generate-root', '--init', '-o', 'json']);
    assert.equal(started.code, 0, started.stderr);
    const { nonce, otp } = JSON.parse(started.out) as { nonce: string; otp: string };
    assert.match(otp, /^[A-Za-z0-9]{36}$/);
    assert.match(started.stderr, /Keep the OTP/);

    const first = await runArca(env, ['operator', 'generate-root', '--nonce', nonce], `${keys[2]}\n`);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.out, /Progress\s+1\/2/);
    const again = await runArca(env, ['operator', 'generate-root', '--nonce', nonce, keys[2]!]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already been provided/);
    const status = await runArca(env, ['operator', 'generate-root', '--status']);
    assert.match(status.out, /Progress\s+1\/2/);

    const last = await runArca(env, ['operator', 'generate-root', '--nonce', nonce, keys[0]!, '-o', 'json']);
    assert.equal(last.code, 0, last.stderr);
    const done = JSON.parse(last.out) as { complete: boolean; encoded_token: string };
    assert.equal(done.complete, true);
    const decoded = await runArca(env, ['operator', 'generate-root', '--decode', done.encoded_token, '--otp', otp]);
    assert.equal(decoded.code, 0, decoded.stderr);
    const token = decoded.out.trim();
    // `--decode -` (Vault's -decode=-): the encoded token from stdin, never on the command line.
    const piped = await runArca(env, ['operator', 'generate-root', '--decode', '-', '--otp', otp], `${done.encoded_token}\n`);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.out.trim(), token);
    secrets.push(otp, done.encoded_token, token);
    const self = await srv.client(token).read('auth/token/lookup-self');
    assert.deepEqual((self.body['data'] as { policies: string[] }).policies, ['root']);
    minted.push({ token, accessor: (self.body['data'] as { accessor: string }).accessor });
    assert.equal((await srv.client(token).write('sys/policies/acl/after-break-glass', { policy: 'path "secret/*" { capabilities = ["read"] }' })).status, 204);
  });

  it('the CLI refuses an ambiguous or incomplete call (exit 1), and --cancel ends an attempt', async () => {
    for (const args of [[], ['--init', '--status'], ['--decode', 'AAAA']]) {
      const r = await runArca(env, ['operator', 'generate-root', ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await runArca(env, ['operator', 'generate-root', '--init'])).code, 0);
    const cancel = await runArca(env, ['operator', 'generate-root', '--cancel']);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(((await srv.client().read('sys/generate-root/attempt')).body as { started: boolean }).started, false);
  });

  it('node-vault drives it unchanged', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr });
    const st = await vault.generateRootInit({});
    assert.equal(st.started, true);
    assert.equal(st.required, 2);
    assert.equal(st.otp_length, st.otp.length);
    assert.equal((await vault.generateRootUpdate({ key: keys[1], nonce: st.nonce })).progress, 1);
    const done = await vault.generateRootUpdate({ key: keys[2], nonce: st.nonce });
    assert.equal(done.complete, true);
    const token = Buffer.from(Buffer.from(done.encoded_token, 'base64').map((b: number, i: number) => b ^ st.otp.charCodeAt(i))).toString();
    secrets.push(st.otp, done.encoded_token, token);
    const self = await srv.client(token).read('auth/token/lookup-self');
    assert.deepEqual((self.body['data'] as { policies: string[] }).policies, ['root']);
    minted.push({ token, accessor: (self.body['data'] as { accessor: string }).accessor });
  });

  it('audits every step without a key share, the OTP, the encoded token or the token', async () => {
    const log = await readFile(`${dir.path}/audit.log`, 'utf8');
    type Line = { type: string; request?: { path?: string }; response?: { data?: { data?: Record<string, unknown> } } };
    const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Line);
    const updates = lines.filter((l) => l.type === 'response' && l.request?.path === 'sys/generate-root/update');
    assert.equal(updates.length, 5, 'four accepted keys and the refused repeat');
    // Response data is HMAC'd leaf by leaf, as everywhere; sys/audit-hash finds which token each minted.
    const audited = updates.filter((l) => l.response?.data?.data?.['complete'] === true).map((l) => l.response!.data!.data!['root_token_accessor']);
    const hash = async (input: string) => ((await srv.client(minted[0]!.token).write('sys/audit-hash/file', { input })).body['data'] as { hash: string }).hash;
    assert.deepEqual(audited, [await hash(minted[0]!.accessor), await hash(minted[1]!.accessor)]);
    for (const s of secrets) assert.equal(log.includes(s), false, `audit log holds a secret (${s.slice(0, 6)}…)`);
  });
});

describe('rekey the unseal keys with the CLI (sys/rekey)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: string;
  let oldKey: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    ({ root, key: oldKey } = await initUnsealed(srv));
    assert.equal((await srv.client(root).write('secret/data/kept', { data: { v: 'through-the-rekey' } })).status, 200);
    const { VAULT_TOKEN: _t, VAULT_ADDR: _a, ARCA_TOKEN: _r, ...base } = process.env;
    env = { ...base, ARCA_ADDR: srv.addr };
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('the CLI refuses an incomplete call (exit 1)', async () => {
    for (const args of [[], ['--init'], ['--init', '--key-shares', '3'], ['--status', '--cancel'], ['--status', '--target', 'hsm']]) {
      const r = await runArca(env, ['operator', 'rekey', ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('the holder of the one key replaces it with 3 shares of threshold 2; after a restart only those unseal', async () => {
    const started = await runArca(env, ['operator', 'rekey', '--init', '--key-shares', '3', '--key-threshold', '2', '-o', 'json']);
    assert.equal(started.code, 0, started.stderr);
    const { nonce } = JSON.parse(started.out) as { nonce: string };
    const status = await runArca(env, ['operator', 'rekey', '--status']);
    assert.match(status.out, /Rekey Progress\s+0\/1/);
    assert.match(status.out, /New Shares\s+3/);
    const done = await runArca(env, ['operator', 'rekey', '--nonce', nonce], `${oldKey}\n`);
    assert.equal(done.code, 0, done.stderr);
    const keys = [...done.out.matchAll(/^Key \d: ([0-9a-f]{66})$/gm)].map((m) => m[1]!);
    assert.equal(keys.length, 3, done.out);
    assert.match(done.out, /old keys no longer count/);

    await srv.stop();
    srv = await startArca({ args: ['--data-dir', dir.path], port: srv.port });
    const c = srv.client();
    const refused = await c.request('PUT', 'sys/unseal', { key: oldKey });
    assert.equal(refused.status, 400);
    assert.match((refused.body['errors'] as string[])[0]!, /not one of the unseal keys/);
    assert.equal(((await c.write('sys/unseal', { key: keys[2] })).body as { sealed: boolean; t: number }).t, 2);
    assert.equal(((await c.write('sys/unseal', { key: keys[0] })).body as { sealed: boolean }).sealed, false);
    const kept = (await srv.client(root).read('secret/data/kept')).body['data'] as { data: { v: string } };
    assert.equal(kept.data.v, 'through-the-rekey');
  });
});
