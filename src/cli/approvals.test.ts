/**
 * The governance CLI against a real dev server: `arca login userpass` (with the TOTP step),
 * `arca mfa totp enroll`, `arca approvals list|show|approve`, `arca unwrap`.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ArcaProcess } from '../../test/harness/arca.ts';
import { tempDir, waitFor } from '../../test/harness/index.ts';
import { codeAt } from '../mfa/index.ts';
import { cliDevServer, runArca } from './testing.ts';

describe('governance CLI (login userpass, mfa, approvals, unwrap)', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const root = () => srv.client(env['ARCA_TOKEN']!);
  const pwFile = (n: string) => join(dir.path, `${n}.pw`);
  const login = async (n: string, extra: string[] = []) => {
    const r = await runArca(env, ['login', 'userpass', '--username', n, '--password-file', pwFile(n), '-o', 'json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.out) as { token: string; entity_id: string };
  };

  before(async () => {
    ({ srv, env } = await cliDevServer());
    dir = await tempDir();
    // The dev server answers seal-status before its bootstrap (init, unseal) is done.
    await waitFor('dev bootstrap', async () => ((await root().request('GET', 'sys/mounts')).status === 200 ? true : undefined));
    await root().write('sys/auth/userpass', { type: 'userpass' });
    await root().write('sys/policies/acl/key-admin', { policy: 'path "transit/keys/+/rotate" { capabilities = ["update"]\n control_group = { factor "k" { identity { group_names = ["approvers"] approvals = 1 } } } }\npath "identity/mfa/method/totp/generate" { capabilities = ["update"] }' });
    await root().write('sys/policies/acl/approver', { policy: 'path "sys/control-group/*" { capabilities = ["update", "list"] }' });
    await root().write('transit/keys/k', {});
    for (const [n, p] of [['ann', 'key-admin'], ['ben', 'approver']] as const) {
      await writeFile(pwFile(n), `pw-${n}\n`);
      await root().write(`auth/userpass/users/${n}`, { password: `pw-${n}`, token_policies: [p] });
    }
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('logs in, holds a rotation for approval, approves it and unwraps it once', async () => {
    const ann = await login('ann');
    const ben = await login('ben');
    assert.match(ann.token, /^hvs\./);
    await root().write('identity/group', { name: 'approvers', member_entity_ids: [ben.entity_id] });
    const held = await srv.client(ann.token).write('transit/keys/k/rotate', {});
    const accessor = (held.body['wrap_info'] as { accessor: string; token: string }).accessor;
    const wrapToken = (held.body['wrap_info'] as { token: string }).token;
    const list = await runArca({ ...env, ARCA_TOKEN: ben.token }, ['approvals', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.out, new RegExp(accessor));
    const show = await runArca({ ...env, ARCA_TOKEN: ben.token }, ['approvals', 'show', accessor, '-o', 'json']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal((JSON.parse(show.out) as { approved: boolean }).approved, false);
    const ok = await runArca({ ...env, ARCA_TOKEN: ben.token }, ['approvals', 'approve', accessor, '-o', 'json']);
    assert.equal((JSON.parse(ok.out) as { approved: boolean }).approved, true);
    const un = await runArca({ ...env, ARCA_TOKEN: ann.token }, ['unwrap', '-'], wrapToken);
    assert.equal(un.code, 0, un.stderr);
    const again = await runArca({ ...env, ARCA_TOKEN: ann.token }, ['unwrap', wrapToken]);
    assert.equal(again.code, 2);
    const k = await root().read('transit/keys/k');
    assert.equal((k.body['data'] as { latest_version: number }).latest_version, 2);
  });

  it('enrolls TOTP and completes an MFA login with the code', async () => {
    const ann = await login('ann');
    const m = await root().write('identity/mfa/method/totp', { method_name: 'cli' });
    const methodId = (m.body['data'] as { method_id: string }).method_id;
    const qr = join(dir.path, 'qr.png');
    const e = await runArca({ ...env, ARCA_TOKEN: ann.token }, ['mfa', 'totp', 'enroll', '--method-id', methodId, '--qr-file', qr, '-o', 'json']);
    assert.equal(e.code, 0, e.stderr);
    const secret = new URL((JSON.parse(e.out) as { url: string }).url).searchParams.get('secret')!;
    await root().write('identity/mfa/login-enforcement/cli', { mfa_method_ids: [methodId], auth_method_types: ['userpass'] });
    const missing = await runArca(env, ['login', 'userpass', '--username', 'ann', '--password-file', pwFile('ann')]);
    assert.equal(missing.code, 1);
    const done = await login('ann', ['--totp-code', codeAt(secret, Date.now())]);
    assert.match(done.token, /^hvs\./);
  });
});
