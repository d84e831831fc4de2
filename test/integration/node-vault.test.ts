/**
 * A Vault client library from npm (node-vault 0.12) drives Arca unchanged: init, unseal, seal-status,
 * health, seal; KV v2 read/write/list (LIST verb); transit create/encrypt/decrypt/rotate; tokens.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import nodeVault from 'node-vault';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

describe('node-vault against a real Arca server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
  let vault: any;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('initializes, unseals and reports status and health', async () => {
    assert.equal((await vault.initialized()).initialized, false);
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.keys.length, 3);
    vault.token = init.root_token;
    let st = await vault.status();
    assert.equal(st.sealed, true);
    assert.equal(st.t, 2);
    assert.equal(st.n, 3);
    st = await vault.unseal({ key: init.keys[0] });
    assert.equal(st.progress, 1);
    st = await vault.unseal({ key: init.keys[2] });
    assert.equal(st.sealed, false);
    const h = await vault.health();
    assert.equal(h.initialized, true);
    assert.equal(h.sealed, false);
    assert.equal(h.standby, false);
  });

  it('writes, reads and lists KV v2 secrets', async () => {
    await vault.write('secret/data/app/db', { data: { user: 'app', password: 'pw-1' } });
    await vault.write('secret/data/app/api', { data: { key: 'k' } });
    const r = await vault.read('secret/data/app/db');
    assert.equal(r.data.data.password, 'pw-1');
    assert.equal(r.data.metadata.version, 1);
    const l = await vault.list('secret/metadata/app');
    assert.deepEqual(l.data.keys, ['api', 'db']);
  });

  it('creates a transit key, encrypts, decrypts and rotates', async () => {
    await vault.transitCreateKey({ name: 'nv' });
    const plaintext = Buffer.from('hello from node-vault').toString('base64');
    const e1 = await vault.encryptData({ name: 'nv', plaintext });
    assert.match(e1.data.ciphertext, /^vault:v1:/);
    await vault.write('transit/keys/nv/rotate', {});
    const e2 = await vault.encryptData({ name: 'nv', plaintext });
    assert.match(e2.data.ciphertext, /^vault:v2:/);
    for (const ct of [e1.data.ciphertext, e2.data.ciphertext]) {
      const d = await vault.decryptData({ name: 'nv', ciphertext: ct });
      assert.equal(d.data.plaintext, plaintext);
    }
    const k = await vault.transitReadKey({ name: 'nv' });
    assert.equal(k.data.latest_version, 2);
  });

  it('creates and looks up tokens, and gets 403 with "invalid token" for a bad one', async () => {
    const root = vault.token;
    const t = await vault.tokenCreate({ policies: ['default'], ttl: '1h' });
    assert.match(t.auth.client_token, /^hvs\./);
    // node-vault switches to the token it created; lookup-self describes that token.
    assert.equal(vault.token, t.auth.client_token);
    assert.equal(t.auth.lease_duration, 3600);
    const self = await vault.tokenLookupSelf();
    assert.equal(self.data.accessor, t.auth.accessor);
    // Its 1h lifetime, checked without depending on how long the test took: the TTL fixed at creation,
    // an expiry exactly that far after issue (RFC 3339 times), and a remaining TTL counting down from it.
    assert.equal(self.data.creation_ttl, 3600);
    assert.equal(Date.parse(self.data.issue_time), self.data.creation_time * 1000);
    assert.equal(Date.parse(self.data.expire_time) - Date.parse(self.data.issue_time), 3600 * 1000);
    assert.ok(Number.isInteger(self.data.ttl) && self.data.ttl > 0 && self.data.ttl <= 3600, `remaining ttl ${self.data.ttl}`);
    vault.token = 'hvs.not-a-token';
    await assert.rejects(vault.read('secret/data/app/db'), (err: Error & { response?: { statusCode: number } }) => {
      assert.equal(err.response?.statusCode, 403);
      assert.match(err.message, /invalid token/);
      return true;
    });
    vault.token = root;
  });

  it('seals', async () => {
    await vault.seal();
    assert.equal((await vault.status()).sealed, true);
  });
});

describe('node-vault: token endpoints as Vault answers them (issue 12 item 16)', () => {
  const ROOT = 'node-vault-tokens-root';
  let srv: ArcaProcess;
  // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
  let vault: any;
  type VaultError = Error & { response?: { statusCode: number } };
  const status = (code: number, message?: RegExp) => (err: VaultError) => {
    assert.equal(err.response?.statusCode, code);
    if (message) assert.match(err.message, message);
    return true;
  };

  before(async () => {
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    for (let i = 0; i < 100 && (await srv.client(ROOT).request('GET', 'sys/health')).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    await vault.write('sys/policies/acl/maker', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
  });
  after(async () => srv?.stop());

  it('treats JSON null as "not set" in auth/token/create', async () => {
    const r = await vault.write('auth/token/create', {
      policies: ['default'], ttl: null, explicit_max_ttl: null, period: null, num_uses: null, meta: null, display_name: null, renewable: null, no_parent: null,
    });
    assert.match(r.auth.client_token, /^hvs\./);
    assert.equal(r.auth.lease_duration, 768 * 3600);
    assert.equal(r.auth.num_uses, 0);
    vault.token = ROOT;
  });

  it('answers the token in data.id from lookup and lookup-self', async () => {
    const t = (await vault.tokenCreate({ policies: ['default'], ttl: '1h' })).auth.client_token;
    vault.token = ROOT;
    assert.equal((await vault.tokenLookup({ token: t })).data.id, t);
    assert.equal((await vault.tokenLookupSelf()).data.id, ROOT);
  });

  it('answers auth.client_token from renew-self, so the client keeps a working token', async () => {
    const t = (await vault.tokenCreate({ policies: ['default'], ttl: '1h' })).auth.client_token;
    assert.equal(vault.token, t);
    const r = await vault.tokenRenewSelf({ increment: '2h' });
    assert.equal(r.auth.client_token, t);
    assert.equal(vault.token, t, 'node-vault replaced its token with auth.client_token');
    assert.equal((await vault.tokenLookupSelf()).data.id, t);
    vault.token = ROOT;
  });

  it('refuses a child asking for policies its parent lacks with 400', async () => {
    const parent = (await vault.tokenCreate({ policies: ['maker'], ttl: '1h' })).auth.client_token;
    assert.equal(vault.token, parent);
    await assert.rejects(vault.tokenCreate({ policies: ['admin'] }), status(400, /child policies must be subset of parent/));
    assert.equal(vault.token, parent, 'no token was issued');
    vault.token = ROOT;
  });

  it('looks up a revoked or unknown token as 403 "bad token"', async () => {
    const t = (await vault.tokenCreate({ policies: ['default'], ttl: '1h' })).auth.client_token;
    vault.token = ROOT;
    await vault.tokenRevoke({ token: t });
    await assert.rejects(vault.tokenLookup({ token: t }), status(403, /^bad token$/));
    await assert.rejects(vault.tokenLookup({ token: 'hvs.never-issued' }), status(403, /^bad token$/));
  });

  it('revokes an unknown token with 204', async () => {
    await vault.tokenRevoke({ token: 'hvs.never-issued' });
    const r = await srv.client(ROOT).request('POST', 'auth/token/revoke', { token: 'hvs.never-issued' });
    assert.equal(r.status, 204);
  });
});

describe('node-vault: null means "not set", and policies by `policy` or `rules` (issue 12 item 16)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
  let vault: any;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr });
    const init = await vault.init({ secret_shares: 1, secret_threshold: 1 });
    vault.token = init.root_token;
    await vault.unseal({ key: init.keys[0] });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('treats null optional fields as absent in sys/mounts enable and tune', async () => {
    await vault.mount({ mount_point: 'nulls', type: 'transit', description: null, options: null, config: { default_lease_ttl: null, max_lease_ttl: '1h' } });
    const m = (await vault.read('sys/mounts/nulls')).data;
    assert.equal(m.type, 'transit');
    assert.equal(m.description, '');
    assert.equal(m.config.max_lease_ttl, 3600);
    await vault.write('sys/mounts/nulls/tune', { default_lease_ttl: '30m', max_lease_ttl: null, description: null });
    const t = (await vault.read('sys/mounts/nulls/tune')).data;
    assert.deepEqual([t.default_lease_ttl, t.max_lease_ttl, t.description], [1800, 3600, '']);
  });

  it('treats null optional fields as absent in engine config endpoints', async () => {
    await vault.write('secret/config', { max_versions: 7, cas_required: null, delete_version_after: null });
    const c = (await vault.read('secret/config')).data;
    assert.deepEqual([c.max_versions, c.cas_required, c.delete_version_after], [7, false, '0s']);
    await vault.write('secret/metadata/n', { max_versions: null, custom_metadata: null, delete_version_after: '1h' });
    assert.equal((await vault.read('secret/metadata/n')).data.delete_version_after, '1h0m0s');
    await vault.write('transit/keys/n', { type: null, derived: null, auto_rotate_period: null });
    await vault.write('transit/keys/n/config', { min_decryption_version: null, auto_rotate_period: '24h', deletion_allowed: null });
    const k = (await vault.read('transit/keys/n')).data;
    assert.deepEqual([k.type, k.auto_rotate_period, k.deletion_allowed], ['aes256-gcm96', 86400, false]);
  });

  it('writes a policy through sys/policy/:name with `policy` (and `rules`), and sys/policies/acl/:name with either', async () => {
    const text = 'path "secret/data/p/*" { capabilities = ["read"] }';
    await vault.write('sys/policy/by-policy', { policy: text });
    assert.equal((await vault.getPolicy({ name: 'by-policy' })).rules, text);
    await vault.addPolicy({ name: 'by-rules', rules: text });
    assert.equal((await vault.read('sys/policies/acl/by-rules')).data.policy, text);
    await vault.write('sys/policies/acl/acl-rules', { rules: text });
    assert.equal((await vault.read('sys/policies/acl/acl-rules')).data.policy, text);
    await assert.rejects(vault.write('sys/policy/empty', { policy: null }), (err: Error & { response?: { statusCode: number } }) => {
      assert.equal(err.response?.statusCode, 400);
      return true;
    });
  });
});

describe('Vault parity details a client library relies on (issue 12 item 16)', () => {
  const ROOT = 'parity-root-token';
  let srv: ArcaProcess;
  before(async () => {
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
  });
  after(async () => srv?.stop());

  it('answers sys/capabilities-self for a root token with ["root"]', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    const r = await vault.write('sys/capabilities-self', { paths: ['secret/data/x'] });
    assert.deepEqual(r.data['secret/data/x'], ['root']);
    assert.deepEqual(r.capabilities, ['root']);
  });

  it("reads another token's capabilities by token or accessor (sys/capabilities, sys/capabilities-accessor; sudo)", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    await vault.write('sys/policies/acl/caps-reader', { policy: 'path "secret/data/app/*" { capabilities = ["read", "list"] }' });
    const t = (await vault.write('auth/token/create', { policies: ['caps-reader'], no_parent: true })).auth as { client_token: string; accessor: string };
    const paths = ['secret/data/app/db', 'secret/data/other'];
    const byToken = await vault.write('sys/capabilities', { token: t.client_token, paths });
    assert.deepEqual([byToken.data['secret/data/app/db'], byToken.data['secret/data/other']], [['list', 'read'], ['deny']]);
    const byAccessor = await vault.write('sys/capabilities-accessor', { accessor: t.accessor, path: 'secret/data/app/db' });
    assert.deepEqual(byAccessor.capabilities, ['list', 'read'], 'one path: also at the top level, as Vault answers');
    // The old single `path` form, and root's answer.
    assert.deepEqual((await vault.write('sys/capabilities', { token: ROOT, path: 'secret/data/x' })).capabilities, ['root']);
    for (const [path, body, message] of [
      ['sys/capabilities', { token: 'hvs.not-a-token', paths }, /invalid token/],
      ['sys/capabilities-accessor', { accessor: 'no-such-accessor', paths }, /invalid accessor/],
      ['sys/capabilities', { paths }, /field "token"/],
    ] as const) {
      await assert.rejects(vault.write(path, body), (err: Error & { response?: { statusCode: number; body: { errors: string[] } } }) => {
        assert.equal(err.response?.statusCode, 400, path);
        assert.match(err.response!.body.errors[0]!, message);
        assert.equal(err.response!.body.errors[0]!.includes('hvs.not-a-token'), false, 'the token is not echoed');
        return true;
      });
    }
    // Without sudo, a token cannot read another's capabilities (nor its own this way).
    const plain = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: t.client_token });
    await assert.rejects(plain.write('sys/capabilities-accessor', { accessor: t.accessor, paths }), (err: Error & { response?: { statusCode: number } }) => err.response?.statusCode === 403);
  });

  it('token roles: node-vault stores them, and a token without those policies creates tokens through one', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const root: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    await root.write('sys/policies/acl/deployer', { policy: 'path "auth/token/create/deploy" { capabilities = ["update"] }' });
    await root.write('sys/policies/acl/deploy-a', { policy: 'path "secret/data/deploy/*" { capabilities = ["read"] }' });
    await root.addTokenRole({ role_name: 'deploy', allowed_policies: 'deploy-a,deploy-b', disallowed_policies: 'admin', orphan: true, renewable: false, explicit_max_ttl: 3600 });
    await root.write('auth/token/roles/deploy', { token_num_uses: 5, path_suffix: 'ci', token_bound_cidrs: ['127.0.0.0/8'] });
    const role = (await root.getTokenRole({ role_name: 'deploy' })).data;
    assert.deepEqual([role.allowed_policies, role.disallowed_policies, role.orphan, role.renewable, role.token_explicit_max_ttl, role.token_num_uses, role.path_suffix, role.token_type],
      [['deploy-a', 'deploy-b'], ['admin'], true, false, 3600, 5, 'ci', 'default-service'], 'a second write keeps the first one\'s fields');
    assert.deepEqual((await root.tokenRoles()).data.keys, ['deploy']);

    // A token that holds none of the role's policies, only the right to use the role.
    const deployer = (await root.write('auth/token/create', { policies: ['deployer'] })).auth.client_token as string;
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const ci: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: deployer });
    const made = await ci.tokenCreateRole({ role_name: 'deploy', policies: ['deploy-a'], ttl: '2h' });
    assert.deepEqual(made.auth.policies, ['default', 'deploy-a']);
    assert.equal(made.auth.orphan, true);
    assert.equal(made.auth.renewable, false);
    assert.equal(made.auth.lease_duration, 3600, "capped by the role's explicit_max_ttl");
    const look = (await root.write('auth/token/lookup', { token: made.auth.client_token })).data;
    assert.deepEqual([look.path, look.num_uses, look.explicit_max_ttl, look.bound_cidrs], ['auth/token/create/deploy/ci', 5, 3600, ['127.0.0.0/8']]);
    // Without policies: the role's allowed ones.
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const ci2: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: deployer });
    assert.deepEqual((await ci2.tokenCreateRole({ role_name: 'deploy' })).auth.policies, ['default', 'deploy-a', 'deploy-b']);

    for (const [body, message] of [
      [{ policies: ['admin'] }, /must be subset of the role's allowed policies/],
      [{ policies: ['deploy-c'] }, /must be subset of the role's allowed policies/],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
      const c: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: deployer });
      await assert.rejects(c.tokenCreateRole({ role_name: 'deploy', ...body }), (err: Error & { response?: { statusCode: number; body: { errors: string[] } } }) => {
        assert.equal(err.response?.statusCode, 400);
        assert.match(err.response!.body.errors[0]!, message);
        return true;
      });
    }
    const other = await fetch(`${srv.addr}/v1/auth/token/create/other`, { method: 'POST', headers: { 'x-vault-token': deployer }, body: '{}' });
    assert.equal(other.status, 403, 'the ACL decides who may use which role');
    // A role only through its path: naming it in the body of a plain create (which a policy may
    // allow for other reasons) must not pick the role's rules.
    await root.write('sys/policies/acl/creator', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const creator = (await root.write('auth/token/create', { policies: ['creator'] })).auth.client_token as string;
    const viaBody = await fetch(`${srv.addr}/v1/auth/token/create`, { method: 'POST', headers: { 'x-vault-token': creator }, body: JSON.stringify({ role_name: 'deploy', policies: ['deploy-a'] }) });
    assert.equal(viaBody.status, 400);
    assert.match(((await viaBody.json()) as { errors: string[] }).errors[0]!, /role_name is taken from the path/);
    const unknown = await fetch(`${srv.addr}/v1/auth/token/create/nope`, { method: 'POST', headers: { 'x-vault-token': ROOT }, body: '{}' });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { errors: string[] }).errors[0]!, /unknown role: no token role has that name/);

    for (const [body, message] of [
      [{ allowed_policies: ['root'] }, /cannot allow the root policy/],
      [{ allowed_entity_aliases: ['x'] }, /allowed_entity_aliases is not supported/],
      [{ path_suffix: '../up' }, /path_suffix/],
      [{ token_type: 'batch', token_period: 60 }, /periodic/],
    ] as const) {
      const r = await fetch(`${srv.addr}/v1/auth/token/roles/bad`, { method: 'POST', headers: { 'x-vault-token': ROOT }, body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(((await r.json()) as { errors: string[] }).errors[0]!, message);
    }
    assert.deepEqual((await root.tokenRoles()).data.keys, ['deploy'], 'no refused write stored a role');
    // token_type: forced batch (asking for service is a 400), or a default the create may override.
    await root.write('auth/token/roles/batchy', { allowed_policies: 'deploy-a', token_type: 'batch' });
    await root.write('auth/token/roles/either', { allowed_policies: 'deploy-a', token_type: 'default-batch' });
    const createVia = async (role: string, body: Record<string, unknown>) =>
      fetch(`${srv.addr}/v1/auth/token/create/${role}`, { method: 'POST', headers: { 'x-vault-token': ROOT }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { auth?: { client_token: string }; errors?: string[] } }));
    assert.match((await createVia('batchy', {})).body.auth!.client_token, /^hvb\./);
    const forced = await createVia('batchy', { type: 'service' });
    assert.equal(forced.status, 400);
    assert.match(forced.body.errors![0]!, /this role issues batch tokens/);
    assert.match((await createVia('either', {})).body.auth!.client_token, /^hvb\./);
    assert.match((await createVia('either', { type: 'service' })).body.auth!.client_token, /^hvs\./);
    for (const r of ['batchy', 'either']) await root.removeTokenRole({ role_name: r });
    await root.removeTokenRole({ role_name: 'deploy' });
    await assert.rejects(root.getTokenRole({ role_name: 'deploy' }), (err: Error & { response?: { statusCode: number } }) => err.response?.statusCode === 404);
  });

  it('moves a secrets engine with its data (sys/remount, node-vault remount) and refuses what it cannot move', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    await vault.mount({ mount_point: 'kv-old', type: 'kv', options: { version: '2' } });
    await vault.write('kv-old/data/app', { data: { v: 'moved-with-its-mount' } });
    await vault.mount({ mount_point: 'transit-old', type: 'transit' });
    await vault.write('transit-old/keys/k', {});
    const ct = (await vault.write('transit-old/encrypt/k', { plaintext: Buffer.from('x').toString('base64') })).data.ciphertext as string;

    const r = await vault.remount({ from: 'kv-old', to: 'team/kv' });
    const status = await vault.read(`sys/remount/status/${r.data.migration_id}`);
    assert.deepEqual(status.data.migration_info, { source_mount: 'kv-old/', target_mount: 'team/kv/', status: 'success' });
    assert.equal((await vault.read('team/kv/data/app')).data.data.v, 'moved-with-its-mount');
    const mounts = (await vault.mounts()).data;
    assert.equal(mounts['kv-old/'], undefined);
    assert.equal(mounts['team/kv/'].type, 'kv');
    await assert.rejects(vault.read('kv-old/data/app'), (err: Error & { response?: { statusCode: number } }) => err.response?.statusCode === 404);
    await vault.remount({ from: 'transit-old/', to: 'transit-new/' });
    assert.equal((await vault.write('transit-new/decrypt/k', { ciphertext: ct })).data.plaintext, Buffer.from('x').toString('base64'), 'the key moved too');

    const before = Object.keys((await vault.mounts()).data).sort();
    for (const [body, message] of [
      [{ from: 'auth/token', to: 'auth/tok2' }, /auth methods cannot be moved/],
      [{ from: 'sys', to: 'system' }, /cannot remount "sys\/"/],
      [{ from: 'identity', to: 'id' }, /cannot remount "identity\/"/],
      [{ from: 'team/kv', to: 'transit-new' }, /already in use/],
      [{ from: 'team/kv', to: 'team/kv/inner' }, /one path contains the other/],
      [{ from: 'nowhere', to: 'x' }, /no secret engine mount at nowhere\//],
      [{ from: 'team/kv' }, /'to' must be the new mount path/],
      [{ from: 'team/kv', to: '../up' }, /invalid mount path/],
    ] as const) {
      await assert.rejects(vault.write('sys/remount', body), (err: Error & { response?: { statusCode: number; body: { errors: string[] } } }) => {
        assert.equal(err.response?.statusCode, 400, JSON.stringify(body));
        assert.match(err.response!.body.errors[0]!, message);
        return true;
      });
    }
    assert.deepEqual(Object.keys((await vault.mounts()).data).sort(), before, 'no refused move changed the mount table');
  });

  it('lists itself as the one active node in sys/ha-status without HA (vault operator members)', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    const nodes = (await vault.read('sys/ha-status')).data.nodes as { active_node: boolean; last_echo: string | null; version: string }[];
    assert.equal(nodes.length, 1);
    assert.deepEqual([nodes[0]!.active_node, nodes[0]!.last_echo], [true, null]);
    assert.match(nodes[0]!.version, /^\d+\.\d+\.\d+$/);
  });

  it('revokes every token an auth method issued by prefix (sys/leases/revoke-prefix, vault lease revoke -prefix)', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    await vault.write('sys/auth/people', { type: 'userpass' });
    await vault.write('auth/people/users/ana', { password: 'pw-ana-3c9f1e', token_policies: 'default' });
    await vault.write('auth/people/users/bo', { password: 'pw-bo-7a21d4', token_policies: 'default', token_type: 'batch' });
    const login = async (user: string, password: string) => ((await fetch(`${srv.addr}/v1/auth/people/login/${user}`, { method: 'POST', body: JSON.stringify({ password }) }).then((r) => r.json())) as { auth: { client_token: string } }).auth.client_token;
    const [ana1, ana2, bo] = [await login('ana', 'pw-ana-3c9f1e'), await login('ana', 'pw-ana-3c9f1e'), await login('bo', 'pw-bo-7a21d4')];
    const other = (await vault.write('auth/token/create', { policies: ['default'] })).auth.client_token as string;
    const selfStatus = async (t: string) => (await fetch(`${srv.addr}/v1/auth/token/lookup-self`, { headers: { 'x-vault-token': t } })).status;
    assert.deepEqual(await Promise.all([ana1, ana2, bo, other].map(selfStatus)), [200, 200, 200, 200]);

    // Vault refuses writes to a path ending in "/": the prefix is given without one.
    const plain = await fetch(`${srv.addr}/v1/sys/leases/revoke-prefix/auth/people/login`, { method: 'PUT', headers: { 'x-vault-token': other } });
    assert.equal(plain.status, 403, 'sudo only');
    const bad = await fetch(`${srv.addr}/v1/sys/leases/revoke-prefix/auth/peo*ple`, { method: 'PUT', headers: { 'x-vault-token': ROOT } });
    assert.equal(bad.status, 400, 'a prefix that is not a path is refused');
    assert.match(((await bad.json()) as { errors: string[] }).errors[0]!, /the prefix must be a path/);

    const r = await fetch(`${srv.addr}/v1/sys/leases/revoke-prefix/auth/people/login`, { method: 'PUT', headers: { 'x-vault-token': ROOT } });
    assert.equal(r.status, 204);
    assert.deepEqual(await Promise.all([ana1, ana2, other].map(selfStatus)), [403, 403, 200], "the method's stored tokens are gone, others stay");
    assert.equal(await selfStatus(bo), 200, 'a batch token is not revocable (as in Vault): it lives to its TTL');
  });

  it("serves Vault's keyless helpers at sys/tools/hash and sys/tools/random", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    const input = Buffer.from('arca tools').toString('base64');
    const sha = await vault.write('sys/tools/hash/sha2-512', { input, format: 'hex' });
    assert.equal(sha.data.sum, createHash('sha512').update('arca tools').digest('hex'));
    const dflt = await vault.write('sys/tools/hash', { input });
    assert.equal(dflt.data.sum, createHash('sha256').update('arca tools').digest('hex'), 'sha2-256 and hex by default');
    const rnd = await vault.write('sys/tools/random/48', { format: 'hex' });
    assert.match(rnd.data.random_bytes, /^[0-9a-f]{96}$/);
    assert.equal(Buffer.from((await vault.write('sys/tools/random', {})).data.random_bytes, 'base64').length, 32);
    await assert.rejects(vault.write('sys/tools/random/0', {}), (err: Error & { response?: { statusCode: number } }) => err.response?.statusCode === 400);
  });

  it('sends error responses with Content-Type application/json exactly', async () => {
    for (const [url, init] of [
      ['/v1/secret/data/x', {}],
      ['/v1/secret/data/x', { headers: { 'x-vault-token': 'hvs.bad' } }],
      ['/v1/no/such/mount', { headers: { 'x-vault-token': ROOT } }],
      ['/v1/%zz', {}],
    ] as [string, RequestInit][]) {
      const r = await fetch(`${srv.addr}${url}`, init);
      assert.ok(r.status >= 400, url);
      assert.equal(r.headers.get('content-type'), 'application/json', url);
    }
  });
});
