/**
 * Issue 18 item 3 against a real server: TOTP enrollment (otpauth:// URL, QR PNG, recovery codes),
 * login enforcement on the userpass mount, `sys/mfa/validate` with ±1 step, each code once, recovery
 * codes once, and no TOTP secret in plaintext at rest or in the audit log.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeAt, TOTP_PARAMS } from '../../src/mfa/index.ts';
import { type Gov, startGov } from './governance-kit.ts';

const STEP_MS = TOTP_PARAMS.period * 1000;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

interface Enrolled {
  secret: string;
  recovery: string[];
  entityId: string;
}

describe('TOTP login MFA (real server)', () => {
  let g: Gov;
  let methodId: string;
  const users = new Map<string, Enrolled>();

  const errCode = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code?: string } | undefined)?.code;
  const firstStep = async (name: string) => {
    const r = await g.client().request('POST', `auth/userpass/login/${name}`, { password: `pw-${name}-secret` });
    const a = r.body['auth'] as { client_token: string; mfa_requirement: { mfa_request_id: string } | null };
    assert.equal(a.client_token, '');
    assert.ok(a.mfa_requirement);
    return a.mfa_requirement.mfa_request_id;
  };
  const validate = (id: string, code: string) => g.client().request('POST', 'sys/mfa/validate', { mfa_request_id: id, mfa_payload: { [methodId]: [code] } });

  /** A user who logged in once (entity created), then enrolled by an administrator. */
  const enroll = async (name: string): Promise<Enrolled> => {
    const { entityId } = await g.login(name);
    const r = await g.root.request('POST', 'identity/mfa/method/totp/admin-generate', { method_id: methodId, entity_id: entityId });
    assert.equal(r.status, 200);
    const d = r.body['data'] as { url: string; barcode: string; recovery_codes: string[] };
    const url = new URL(d.url);
    assert.equal(url.protocol, 'otpauth:');
    assert.ok(Buffer.from(d.barcode, 'base64').subarray(0, 4).equals(PNG));
    assert.equal(d.recovery_codes.length, 10);
    const again = await g.root.request('POST', 'identity/mfa/method/totp/admin-generate', { method_id: methodId, entity_id: entityId });
    assert.equal(again.status, 400, 'a second enrollment does not replace the first');
    const e = { secret: url.searchParams.get('secret')!, recovery: d.recovery_codes, entityId };
    users.set(name, e);
    return e;
  };

  before(async () => {
    g = await startGov();
    const m = await g.root.request('POST', 'identity/mfa/method/totp', { method_name: 'ops', issuer: 'Arca' });
    methodId = (m.body['data'] as { method_id: string }).method_id;
    await enroll('alice');
    await enroll('bob');
    await enroll('carol');
    const auths = await g.root.request('GET', 'sys/auth');
    const accessor = ((auths.body['data'] as Record<string, { accessor: string }>)['userpass/'])!.accessor;
    const r = await g.root.request('POST', 'identity/mfa/login-enforcement/ops', { mfa_method_ids: [methodId], auth_method_accessors: [accessor] });
    assert.equal(r.status, 204);
  });
  after(async () => g?.close());

  it('holds the token back until a valid code, then refuses the same code again', async () => {
    const { secret } = users.get('alice')!;
    const id = await firstStep('alice');
    const wrong = await validate(id, codeAt(secret, Date.now()) === '000000' ? '111111' : '000000');
    assert.equal(errCode(wrong), 'ERR_MFA_INVALID');
    const code = codeAt(secret, Date.now());
    const ok = await validate(id, code);
    assert.equal(ok.status, 200);
    const token = (ok.body['auth'] as { client_token: string }).client_token;
    assert.match(token, /^hvs\./);
    assert.equal((await g.client(token).request('GET', 'auth/token/lookup-self')).status, 200);
    // The pending login is single-use, and the code is spent for every later login.
    assert.equal(errCode(await validate(id, code)), 'ERR_MFA_INVALID');
    assert.equal(errCode(await validate(await firstStep('alice'), code)), 'ERR_MFA_INVALID');
    // The next step's code (within the ±1 window) is accepted.
    assert.equal((await validate(await firstStep('alice'), codeAt(secret, Date.now() + STEP_MS))).status, 200);
  });

  it('refuses a code two steps away', async () => {
    const { secret } = users.get('bob')!;
    assert.equal(errCode(await validate(await firstStep('bob'), codeAt(secret, Date.now() - 2 * STEP_MS))), 'ERR_MFA_INVALID');
    assert.equal(errCode(await validate(await firstStep('bob'), codeAt(secret, Date.now() + 3 * STEP_MS))), 'ERR_MFA_INVALID');
    assert.equal((await validate(await firstStep('bob'), codeAt(secret, Date.now()))).status, 200);
  });

  it('accepts each recovery code once', async () => {
    const { recovery } = users.get('carol')!;
    assert.equal((await validate(await firstStep('carol'), recovery[0]!)).status, 200);
    assert.equal(errCode(await validate(await firstStep('carol'), recovery[0]!)), 'ERR_MFA_INVALID');
    assert.equal((await validate(await firstStep('carol'), recovery[1]!)).status, 200);
  });

  it('lets a control group require approvers to have logged in with MFA recently (step-up)', async () => {
    await g.root.write('sys/policies/acl/held', { policy: 'path "transit/keys/+/rotate" { capabilities = ["update"]\n control_group = { factor "f" { identity { group_names = ["stepup"] approvals = 1 }\n require_mfa_within = "5m" } } }' });
    await g.root.write('sys/policies/acl/approve', { policy: 'path "sys/control-group/*" { capabilities = ["update"] }\npath "auth/token/create" { capabilities = ["update"] }' });
    await g.root.write('transit/keys/s', {});
    await g.root.request('POST', 'identity/group', { name: 'stepup', policies: ['approve'], member_entity_ids: [users.get('bob')!.entityId, users.get('carol')!.entityId] });
    await g.root.request('POST', `identity/entity/id/${users.get('alice')!.entityId}`, { policies: ['held'] });
    const mfaToken = async (name: string, code: string) => {
      const r = await validate(await firstStep(name), code);
      assert.equal(r.status, 200);
      return (r.body['auth'] as { client_token: string }).client_token;
    };
    const alice = await mfaToken('alice', users.get('alice')!.recovery[0]!);
    const held = await g.client(alice).request('POST', 'transit/keys/s/rotate', {});
    const accessor = (held.body['wrap_info'] as { accessor: string }).accessor;
    // A child of carol's MFA token acts for carol's entity but did not pass MFA itself.
    const carol = await mfaToken('carol', users.get('carol')!.recovery[2]!);
    const child = await g.client(carol).request('POST', 'auth/token/create', {});
    const childToken = (child.body['auth'] as { client_token: string }).client_token;
    const refused = await g.client(childToken).request('POST', 'sys/control-group/authorize', { accessor });
    assert.equal(errCode(refused), 'ERR_CONTROL_GROUP_MFA_REQUIRED');
    const bob = await mfaToken('bob', users.get('bob')!.recovery[0]!);
    const ok = await g.client(bob).request('POST', 'sys/control-group/authorize', { accessor });
    assert.equal((ok.body['data'] as { approved: boolean }).approved, true);
  });

  it('keeps TOTP secrets and recovery codes out of storage files and the audit log', async () => {
    const dataDir = join(g.dir, 'data');
    const files = [...(await readdir(dataDir)).map((f) => join(dataDir, f)), g.auditLog];
    for (const f of files) {
      const b = await readFile(f).catch(() => Buffer.alloc(0));
      for (const [name, e] of users) {
        assert.equal(b.includes(e.secret), false, `${name}'s secret in ${f}`);
        for (const c of e.recovery) assert.equal(b.includes(c), false, `${name}'s recovery code in ${f}`);
      }
    }
  });
});
