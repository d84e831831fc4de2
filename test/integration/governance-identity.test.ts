/**
 * Issue 18 items 1–2 against a real server: every userpass login resolves to an entity (created on
 * first login), token policies = token ∪ entity ∪ groups evaluated per request (group removal reaches
 * live tokens), entity_id in lookup and audit; userpass hashing and per-user lockout.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCKOUT } from '../../src/engines/auth-userpass/index.ts';
import { requestFrom, waitFor } from '../harness/index.ts';
import { type Gov, startGov } from './governance-kit.ts';

describe('identity and userpass (real server)', () => {
  let g: Gov;
  before(async () => {
    g = await startGov();
    await g.root.write('sys/policies/acl/kvread', { policy: 'path "secret/data/shared" { capabilities = ["read"] }' });
    await g.root.write('secret/data/shared', { data: { v: '1' } });
  });
  after(async () => g?.close());

  it('creates an entity on first login and reuses it on the next', async () => {
    const a = await g.login('alice');
    assert.match(a.entityId, /^[0-9a-f-]{36}$/);
    const again = await g.client().request('POST', 'auth/userpass/login/alice', { password: 'pw-alice-secret' });
    assert.equal((again.body['auth'] as { entity_id: string }).entity_id, a.entityId);
    const e = await g.root.request('GET', `identity/entity/id/${a.entityId}`);
    const aliases = (e.body['data'] as { aliases: { name: string; mount_type: string }[] }).aliases;
    assert.deepEqual(aliases.map((x) => [x.name, x.mount_type]), [['alice', 'userpass']]);
    const self = await g.client(a.token).request('GET', 'auth/token/lookup-self');
    assert.equal((self.body['data'] as { entity_id: string }).entity_id, a.entityId);
  });

  it('applies group policies to live tokens and revokes them when the entity leaves the group', async () => {
    await g.root.write('sys/policies/acl/childmaker', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const b = await g.login('bob', undefined, ['childmaker']);
    const c = g.client(b.token);
    assert.equal((await c.request('GET', 'secret/data/shared')).status, 403);
    const grp = await g.root.request('POST', 'identity/group', { name: 'readers', policies: ['kvread'], member_entity_ids: [b.entityId] });
    assert.equal(grp.status, 200);
    assert.equal((await c.request('GET', 'secret/data/shared')).status, 200);
    // A child token acts for the same entity and gets the group's policies too.
    const child = await c.request('POST', 'auth/token/create', { policies: ['default'] });
    assert.equal((child.body['auth'] as { entity_id: string }).entity_id, b.entityId);
    await g.root.request('POST', 'identity/group/name/readers', { member_entity_ids: [] });
    await waitFor('group removal reaches the live token', async () => ((await c.request('GET', 'secret/data/shared')).status === 403 ? true : undefined));
  });

  it('applies entity policies and stops when the entity is disabled', async () => {
    const d = await g.login('dora');
    const c = g.client(d.token);
    await g.root.request('POST', `identity/entity/id/${d.entityId}`, { policies: ['kvread'] });
    assert.equal((await c.request('GET', 'secret/data/shared')).status, 200);
    await g.root.request('POST', `identity/entity/id/${d.entityId}`, { disabled: true });
    assert.equal((await c.request('GET', 'secret/data/shared')).status, 403);
  });

  it('manages entities and groups by name, with LIST', async () => {
    assert.equal((await g.root.request('POST', 'identity/entity/name/ops-e', { policies: ['x'] })).status, 200);
    const l = await g.root.request('GET', 'identity/entity/name/?list=true');
    assert.ok((l.body['data'] as { keys: string[] }).keys.includes('ops-e'));
    const dup = await g.root.request('POST', 'identity/entity', { name: 'ops-e' });
    assert.equal((dup.body['error'] as { code: string }).code, 'ERR_IDENTITY_CONFLICT');
    assert.equal((await g.root.request('DELETE', 'identity/entity/name/ops-e')).status, 204);
    assert.equal((await g.root.request('GET', 'identity/entity/name/ops-e')).status, 404);
  });

  it('records entity ids in audit entries', async () => {
    const e = await g.login('erin');
    await g.client(e.token).request('GET', 'auth/token/lookup-self');
    // Devices write behind a durable spool: wait for the entry rather than for a time.
    await waitFor('an audit entry with the entity id', async () =>
      (await g.audit()).some((x) => (x['request'] as { auth?: { entity_id?: string } } | undefined)?.auth?.entity_id === e.entityId) ? true : undefined);
  });

  it('refuses a wrong password with one code, and locks out only that user', async () => {
    await g.login('frank');
    await g.login('gina');
    for (let i = 0; i < LOCKOUT.threshold; i++) {
      const r = await g.client().request('POST', 'auth/userpass/login/frank', { password: 'wrong' });
      assert.equal((r.body['error'] as { code: string }).code, 'ERR_LOGIN_FAILED');
    }
    const locked = await g.client().request('POST', 'auth/userpass/login/frank', { password: 'pw-frank-secret' });
    assert.equal((locked.body['error'] as { code: string }).code, 'ERR_LOGIN_LOCKED');
    const other = await g.client().request('POST', 'auth/userpass/login/gina', { password: 'pw-gina-secret' });
    assert.equal(other.status, 200);
    const unknown = await g.client().request('POST', 'auth/userpass/login/nobody', { password: 'x' });
    assert.equal((unknown.body['error'] as { code: string }).code, 'ERR_LOGIN_FAILED');
  });

  it("answers Vault's warning for a user write with a field userpass does not take (misspelt policies)", async () => {
    const r = await g.root.write('auth/userpass/users/ivy', { password: 'pw-ivy-secret-1', token_polices: ['kvread'] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body['warnings'], ['Endpoint ignored these unrecognized parameters: [token_polices]']);
    assert.deepEqual(((await g.root.read('auth/userpass/users/ivy')).body['data'] as { token_policies: string[] }).token_policies, []);
    const clean = await g.root.write('auth/userpass/users/ivy', { token_policies: ['kvread'] });
    assert.equal(clean.status, 204);
  });

  it("takes Vault's token fields on a user: batch tokens, token_bound_cidrs at login and on every use, use counts", async () => {
    const password = 'pw-jo-secret-5d2e';
    const w = await g.root.write('auth/userpass/users/jo', { password, token_policies: 'kvread', token_type: 'batch', token_bound_cidrs: '127.0.0.1/32', token_ttl: '15m' });
    assert.equal(w.status, 204, JSON.stringify(w.body));
    const shape = (await g.root.read('auth/userpass/users/jo')).body['data'] as Record<string, unknown>;
    assert.equal(shape['token_type'], 'batch');
    assert.deepEqual(shape['token_bound_cidrs'], ['127.0.0.1/32']);
    assert.equal(shape['token_ttl'], 900);
    assert.equal(shape['token_num_uses'], 0);
    assert.deepEqual(shape['policies'], ['kvread']);
    assert.equal('password' in shape, false, 'the read never returns the password hash');

    const outside = await requestFrom('127.0.0.3', g.srv.address, 'POST', 'auth/userpass/login/jo', { body: { password } });
    assert.equal(outside.status, 403);
    assert.match(outside.body, /token_bound_cidrs/);
    assert.equal(outside.body.includes(password), false);

    const r = await g.client().request('POST', 'auth/userpass/login/jo', { password });
    const a = r.body['auth'] as { client_token: string; token_type: string; renewable: boolean; lease_duration: number };
    assert.match(a.client_token, /^hvb\./);
    assert.equal(a.token_type, 'batch');
    assert.equal(a.renewable, false);
    assert.equal(a.lease_duration, 900);
    assert.equal((await requestFrom('127.0.0.1', g.srv.address, 'GET', 'secret/data/shared', { token: a.client_token })).status, 200);
    assert.equal((await requestFrom('127.0.0.3', g.srv.address, 'GET', 'secret/data/shared', { token: a.client_token })).status, 403, 'the token is bound too');
    const self = (await g.client(a.client_token).request('GET', 'auth/token/lookup-self')).body['data'] as { bound_cidrs: string[]; type: string };
    assert.deepEqual([self.type, self.bound_cidrs], ['batch', ['127.0.0.1/32']]);

    // Vault's tokenutil refusal changes nothing; a write is an upsert of the given fields.
    const periodic = await g.root.request('POST', 'auth/userpass/users/jo', { token_period: '1h' });
    assert.equal(periodic.status, 400);
    assert.match(JSON.stringify(periodic.body), /periodic tokens/);
    assert.equal(((await g.root.read('auth/userpass/users/jo')).body['data'] as { token_period: number }).token_period, 0);
    assert.equal((await g.root.write('auth/userpass/users/jo', { token_type: 'service', token_num_uses: 1, token_bound_cidrs: '' })).status, 204);
    const once = ((await g.client().request('POST', 'auth/userpass/login/jo', { password })).body['auth'] as { client_token: string });
    assert.match(once.client_token, /^hvs\./);
    assert.equal((await g.client(once.client_token).request('GET', 'secret/data/shared')).status, 200);
    assert.equal((await g.client(once.client_token).request('GET', 'secret/data/shared')).status, 403, 'token_num_uses: 1');
  });

  it('names the body fields identity, policy, audit and MFA writes do not take, and is quiet on what Vault clients send', async () => {
    const warnings = (r: { status: number; body: Record<string, unknown> }) => ((r.body['warnings'] as string[] | undefined) ?? []).join(' ');
    const ignored = (names: string) => `Endpoint ignored these unrecognized parameters: [${names}]`;
    const entity = await g.root.request('POST', 'identity/entity', { name: 'wren', polices: ['kvread'] });
    assert.equal(entity.status, 200);
    assert.equal(warnings(entity), ignored('polices'));
    assert.deepEqual(((await g.root.read('identity/entity/name/wren')).body['data'] as { policies: string[] }).policies, []);
    // Nested groups are not in this subset: a group that names member groups says so.
    const group = await g.root.request('POST', 'identity/group', { name: 'wrens', member_group_ids: ['x'], policies: 'kvread' });
    assert.equal(warnings(group), ignored('member_group_ids'));
    const accessor = ((await g.root.read('sys/auth')).body['data'] as Record<string, { accessor: string }>)['userpass/']!.accessor;
    const alias = await g.root.request('POST', 'identity/entity-alias', { name: 'wren', canonical_id: (entity.body['data'] as { id: string }).id, mount_accessor: accessor, custom_metadata: { team: 'x' } });
    assert.equal(alias.status, 200, JSON.stringify(alias.body));
    assert.equal(warnings(alias), ignored('custom_metadata'));

    const quietPolicy = await g.root.request('PUT', 'sys/policies/acl/wren', { policy: 'path "secret/data/wren" { capabilities = ["read"] }' });
    assert.equal(quietPolicy.status, 204);
    const policy = await g.root.request('PUT', 'sys/policies/acl/wren', { policy: 'path "secret/data/wren" { capabilities = ["read"] }', enforcement_level: 'hard-mandatory' });
    assert.equal(warnings(policy), ignored('enforcement_level'));

    // What `vault audit enable file file_path=...` sends, then a misspelt description.
    const quietAudit = await g.root.request('PUT', 'sys/audit/wren', { type: 'file', description: '', options: { file_path: join(g.dir, 'wren.log') }, local: false });
    assert.equal(quietAudit.status, 204, JSON.stringify(quietAudit.body));
    const audit = await g.root.request('PUT', 'sys/audit/wren2', { type: 'file', descripton: 'x', options: { file_path: join(g.dir, 'wren2.log') } });
    assert.equal(warnings(audit), ignored('descripton'));
    await g.root.request('DELETE', 'sys/audit/wren');
    await g.root.request('DELETE', 'sys/audit/wren2');

    // Eight-digit codes would never match the six-digit ones Arca checks: the write names `digits`.
    const totp = await g.root.request('POST', 'identity/mfa/method/totp', { method_name: 'wren', issuer: 'Arca', digits: 8 });
    assert.equal(totp.status, 200);
    assert.equal(warnings(totp), ignored('digits'));
    const webauthn = await g.root.request('POST', 'identity/mfa/method/webauthn', { method_name: 'wren-key', rp_id: 'localhost', origins: 'http://localhost:8200', attestation: 'direct' });
    assert.equal(webauthn.status, 200, JSON.stringify(webauthn.body));
    assert.equal(warnings(webauthn), ignored('attestation'));
  });

  it("applies the auth mount's token_type and lease TTLs (sys/auth enable config and sys/auth/<path>/tune, as the Vault CLI sends them) to every login", async () => {
    const password = 'pw-tune-secret-3b1c';
    await g.root.write('sys/auth/up-tuned', { type: 'userpass', config: { token_type: 'default-batch', default_lease_ttl: '30m', max_lease_ttl: '2h' } });
    const tune = async () => (await g.root.read('sys/auth/up-tuned/tune')).body['data'] as Record<string, unknown>;
    assert.deepEqual([(await tune())['token_type'], (await tune())['default_lease_ttl'], (await tune())['max_lease_ttl']], ['default-batch', 1800, 7200]);
    const listed = ((await g.root.read('sys/auth')).body['data'] as Record<string, { config: { token_type: string } }>)['up-tuned/']!;
    assert.equal(listed.config.token_type, 'default-batch');
    await g.root.write('auth/up-tuned/users/ann', { password });
    await g.root.write('auth/up-tuned/users/sam', { password, token_type: 'service', token_ttl: '5h' });
    const login = async (user: string) => g.client().request('POST', `auth/up-tuned/login/${user}`, { password });
    const auth = async (user: string) => (await login(user)).body['auth'] as { client_token: string; lease_duration: number; renewable: boolean };

    const ann = await auth('ann');
    assert.match(ann.client_token, /^hvb\./, "a role that asks for no type gets the mount's default-batch");
    assert.deepEqual([ann.lease_duration, ann.renewable], [1800, false], "the mount's default_lease_ttl");
    const sam = await auth('sam');
    assert.match(sam.client_token, /^hvs\./, "the role's explicit service wins over default-batch");
    assert.deepEqual([sam.lease_duration, sam.renewable], [7200, true], "5h capped at the mount's max_lease_ttl");

    assert.equal((await g.root.request('POST', 'sys/auth/up-tuned/tune', { token_type: 'service' })).status, 204);
    assert.match((await auth('ann')).client_token, /^hvs\./, 'a forced service type');
    await g.root.request('POST', 'sys/auth/up-tuned/tune', { token_type: 'batch' });
    assert.match((await auth('sam')).client_token, /^hvb\./, "a forced batch type overrides the role's service");
    await g.root.write('auth/up-tuned/users/ann', { token_num_uses: 3 });
    const refused = await login('ann');
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /token_num_uses/);
    assert.match(JSON.stringify(refused.body), /sys\/auth\/up-tuned/, 'the message says where to change it');
    assert.equal(refused.body['auth'], undefined);

    // Refusals change nothing.
    assert.equal((await g.root.request('POST', 'sys/auth/up-tuned/tune', { token_type: 'batchy', max_lease_ttl: '1h' })).status, 400);
    assert.deepEqual([(await tune())['token_type'], (await tune())['max_lease_ttl']], ['batch', 7200]);
    assert.equal((await g.root.request('POST', 'sys/auth/token/tune', { token_type: 'batch' })).status, 400, 'the token store takes the type per token');
    assert.equal((await g.root.request('POST', 'sys/mounts/secret/tune', { token_type: 'batch' })).status, 400, 'auth mounts only');
    assert.equal((await g.root.request('POST', 'sys/auth/up-bad', { type: 'userpass', config: { token_type: 'batchy' } })).status, 400);
    assert.equal(((await g.root.read('sys/auth')).body['data'] as Record<string, unknown>)['up-bad/'], undefined, 'a refused enable leaves no mount');
    await g.root.request('DELETE', 'sys/auth/up-tuned');
  });

  it('opens only login/<name> without a token, not a user named "login"', async () => {
    // Before: any path ending in /login was unauthenticated, so anyone could set this user's password.
    const r = await g.client().request('POST', 'auth/userpass/users/login', { password: 'attacker', token_policies: ['kvread'] });
    assert.equal(r.status, 403);
    assert.equal((r.body['error'] as { code: string }).code, 'ERR_PERMISSION_DENIED');
    const pw = await g.client().request('POST', 'auth/userpass/users/login/password', { password: 'attacker' });
    assert.equal(pw.status, 403);
  });

  it('stores no password in plaintext and audits none', async () => {
    await g.login('henry', 'plaintext-canary-8c1f');
    const dataDir = join(g.dir, 'data');
    for (const f of await readdir(dataDir)) {
      const b = await readFile(join(dataDir, f)).catch(() => Buffer.alloc(0));
      assert.equal(b.includes('plaintext-canary-8c1f'), false, f);
    }
    assert.equal((await readFile(g.auditLog, 'utf8')).includes('plaintext-canary-8c1f'), false);
  });
});
