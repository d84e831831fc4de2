/**
 * Issue 18 item 5 (done-when "Quorum") against a real server: a control-group policy with
 * approvals = 2 holds A's key rotation; A's own entity (any of its tokens) never counts; B alone is not
 * enough; B + C let A unwrap it, which runs it exactly once; a second unwrap fails; expired requests
 * cannot be approved; no approvers means denied; every step is audited with entity ids. Also plain
 * response wrapping (X-Vault-Wrap-TTL, sys/wrapping/lookup|unwrap|rewrap, single use).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../harness/index.ts';
import { type Gov, startGov } from './governance-kit.ts';

const KEY_ADMIN = `
path "transit/keys/+/rotate" {
  capabilities = ["update"]
  control_group = {
    ttl = "1h"
    factor "key-admins" { identity { group_names = ["key-admins"] approvals = 2 } }
  }
}
path "transit/keys/+/config" {
  capabilities = ["update"]
  control_group = { ttl = "1s"  factor "key-admins" { identity { group_names = ["key-admins"] approvals = 1 } } }
}
path "transit/keys/nobody/rotate" {
  capabilities = ["update"]
  control_group = { factor "none" { identity { group_names = [] approvals = 0 } } }
}
path "transit/keys/empty/rotate" {
  capabilities = ["update"]
  control_group = { factor "empty" { identity { group_names = ["empty-group"] approvals = 1 } } }
}
path "transit/keys/*" { capabilities = ["read"] }`;

const APPROVER = 'path "sys/control-group/*" { capabilities = ["update", "list"] }';

type Body = Record<string, unknown>;
const errCode = (r: { body: Body }) => (r.body['error'] as { code?: string } | undefined)?.code;
const errMessage = (r: { body: Body }) => (r.body['error'] as { message?: string } | undefined)?.message ?? '';

describe('quorum approval of key operations (real server)', () => {
  let g: Gov;
  const who: Record<string, { token: string; entityId: string }> = {};
  const version = async () => ((await g.root.request('GET', 'transit/keys/k')).body['data'] as { latest_version: number }).latest_version;
  const as = (n: string) => g.client(who[n]!.token);
  const authorize = (n: string, accessor: string) => as(n).request('POST', 'sys/control-group/authorize', { accessor });

  before(async () => {
    g = await startGov();
    await g.root.write('sys/policies/acl/key-admin', { policy: KEY_ADMIN });
    await g.root.write('sys/policies/acl/approver', { policy: APPROVER });
    await g.root.write('transit/keys/k', {});
    await g.root.write('transit/keys/empty', {});
    for (const n of ['a', 'b', 'c', 'd']) who[n] = await g.login(n, undefined, n === 'a' ? ['key-admin'] : ['approver']);
    await g.root.request('POST', 'identity/group', { name: 'key-admins', policies: ['approver'], member_entity_ids: [who['a']!.entityId, who['b']!.entityId, who['c']!.entityId] });
    await g.root.request('POST', 'identity/group', { name: 'empty-group', member_entity_ids: [who['a']!.entityId] });
  });
  after(async () => g?.close());

  it('holds the rotation, counts only distinct other entities, and runs it once on unwrap', async () => {
    const held = await as('a').request('POST', 'transit/keys/k/rotate', {});
    assert.equal(held.status, 200);
    const wrap = held.body['wrap_info'] as { token: string; accessor: string };
    assert.match(wrap.token, /^hvs\./);
    assert.equal(held.body['data'], null);
    assert.equal(await version(), 1, 'not executed while pending');

    // A cannot approve its own request, nor can another token of A's entity.
    assert.equal(errCode(await authorize('a', wrap.accessor)), 'ERR_CONTROL_GROUP_DENIED');
    const a2 = await g.client().request('POST', 'auth/userpass/login/a', { password: 'pw-a-secret' });
    const a2token = (a2.body['auth'] as { client_token: string }).client_token;
    assert.equal(errCode(await g.client(a2token).request('POST', 'sys/control-group/authorize', { accessor: wrap.accessor })), 'ERR_CONTROL_GROUP_DENIED');
    // D has the approver policy but is in none of the factor's groups.
    assert.equal(errCode(await authorize('d', wrap.accessor)), 'ERR_CONTROL_GROUP_DENIED');

    const b1 = await authorize('b', wrap.accessor);
    assert.equal((b1.body['data'] as { approved: boolean }).approved, false);
    const b2 = await authorize('b', wrap.accessor);
    assert.equal((b2.body['data'] as { approved: boolean }).approved, false, 'a second approval by B counts once');
    const early = await as('a').request('POST', 'sys/wrapping/unwrap', { token: wrap.token });
    assert.equal(errCode(early), 'ERR_CONTROL_GROUP_DENIED');
    assert.equal(await version(), 1);

    const listed = await as('b').request('GET', 'sys/control-group/requests/?list=true');
    assert.ok((listed.body['data'] as { keys: string[] }).keys.includes(wrap.accessor));

    const c1 = await authorize('c', wrap.accessor);
    assert.equal((c1.body['data'] as { approved: boolean }).approved, true);
    const view = await as('b').request('POST', 'sys/control-group/request', { accessor: wrap.accessor });
    const v = view.body['data'] as { approved: boolean; request_path: string; request_entity: { id: string }; authorizations: { entity_id: string }[] };
    assert.equal(v.approved, true);
    assert.equal(v.request_path, 'transit/keys/k/rotate');
    const shown = view.body['data'] as { creation_time: string; expire_time: string; factors: { name: string; have: number; need: number; require_mfa_within: number }[] };
    assert.ok(Date.parse(shown.creation_time) < Date.parse(shown.expire_time), 'when it was asked, for the Approvals page');
    assert.deepEqual(shown.factors, [{ name: 'key-admins', have: 2, need: 2, require_mfa_within: 0 }]);
    assert.equal(v.request_entity.id, who['a']!.entityId);
    assert.deepEqual(v.authorizations.map((x) => x.entity_id).sort(), [who['b']!.entityId, who['c']!.entityId].sort());
    assert.equal(await version(), 1, 'approval alone does not run it');

    // Only the requester's entity unwraps it.
    assert.equal(errCode(await as('b').request('POST', 'sys/wrapping/unwrap', { token: wrap.token })), 'ERR_CONTROL_GROUP_DENIED');
    const done = await as('a').request('POST', 'sys/wrapping/unwrap', { token: wrap.token });
    assert.equal(done.status, 200);
    assert.equal(await version(), 2, 'executed exactly once');
    const again = await as('a').request('POST', 'sys/wrapping/unwrap', { token: wrap.token });
    assert.equal(errCode(again), 'ERR_WRAPPING_INVALID');
    assert.equal(await version(), 2);
  });

  it('refuses a batch token on a control-group path (approval needs an accessor) and holds nothing', async () => {
    const batch = await g.root.write('auth/token/create', { policies: ['key-admin'], type: 'batch', ttl: '10m' });
    const token = (batch.body['auth'] as { client_token: string }).client_token;
    assert.match(token, /^hvb\./);
    const pending = async () => ((await as('b').request('GET', 'sys/control-group/requests/?list=true')).body['data'] as { keys?: string[] } | undefined)?.keys?.length ?? 0;
    const before = await pending();
    const v0 = await version();
    const r = await g.client(token).request('POST', 'transit/keys/k/rotate', {});
    assert.equal(r.status, 400);
    assert.equal(errCode(r), 'ERR_INVALID_REQUEST');
    assert.match((r.body['error'] as { message: string }).message, /needs a service token/);
    assert.equal(r.body['wrap_info'] ?? undefined, undefined);
    assert.equal(await pending(), before, 'no request is held');
    assert.equal(await version(), v0, 'nothing ran');
  });

  it('refuses approval of an expired request', async () => {
    const held = await as('a').request('POST', 'transit/keys/k/config', { deletion_allowed: true });
    const wrap = held.body['wrap_info'] as { token: string; accessor: string };
    await waitFor('the request to expire', async () => {
      const r = await as('b').request('POST', 'sys/control-group/request', { accessor: wrap.accessor });
      return (r.body['data'] as { expired: boolean }).expired ? true : undefined;
    });
    assert.equal(errCode(await authorize('b', wrap.accessor)), 'ERR_CONTROL_GROUP_DENIED');
    assert.equal(errCode(await as('a').request('POST', 'sys/wrapping/unwrap', { token: wrap.token })), 'ERR_WRAPPING_INVALID');
  });

  it('denies a request whose control group has no approvers', async () => {
    const none = await as('a').request('POST', 'transit/keys/nobody/rotate', {});
    assert.equal(none.status, 403);
    assert.equal(errCode(none), 'ERR_CONTROL_GROUP_DENIED');
    // The only member of the factor's group is the requester: nobody can ever approve.
    const self = await as('a').request('POST', 'transit/keys/empty/rotate', {});
    assert.equal(errCode(self), 'ERR_CONTROL_GROUP_DENIED');
  });

  it('audits every step with entity ids', async () => {
    const ids = { a: who['a']!.entityId, b: who['b']!.entityId, c: who['c']!.entityId };
    await waitFor('the audit entries of the quorum flow', async () => {
      const entries = (await g.audit()).filter((e) => e['type'] === 'response');
      const req = (e: Body) => e['request'] as { path: string; auth?: { entity_id?: string } | null };
      const by = (path: string, entity: string) => entries.filter((e) => req(e).path === path && req(e).auth?.entity_id === entity);
      const rotations = by('transit/keys/k/rotate', ids.a);
      const ok = rotations.length === 2 // held, then executed on unwrap
        && by('sys/control-group/authorize', ids.b).length >= 1
        && by('sys/control-group/authorize', ids.c).length >= 1
        && by('sys/wrapping/unwrap', ids.a).length >= 1;
      return ok ? true : undefined;
    });
  });

  it('wraps any response once with X-Vault-Wrap-TTL (lookup, rewrap, single-use unwrap)', async () => {
    await g.root.write('secret/data/handoff', { data: { v: 'secret-zero' } });
    const w = await g.root.request('GET', 'secret/data/handoff', undefined, { 'X-Vault-Wrap-TTL': '5m' });
    const info = w.body['wrap_info'] as { token: string; ttl: number; creation_path: string };
    assert.equal(info.ttl, 300);
    assert.equal(w.body['data'], null);
    const look = await g.client().request('POST', 'sys/wrapping/lookup', { token: info.token });
    assert.equal((look.body['data'] as { creation_path: string }).creation_path, 'secret/data/handoff');
    const re = await g.client().request('POST', 'sys/wrapping/rewrap', { token: info.token });
    const token2 = ((re.body['data'] as { wrap_info: { token: string } }).wrap_info).token;
    assert.equal(errCode(await g.client().request('POST', 'sys/wrapping/unwrap', { token: info.token })), 'ERR_WRAPPING_INVALID');
    const u = await g.client().request('POST', 'sys/wrapping/unwrap', { token: token2 });
    assert.deepEqual(((u.body['data'] as { data: Body }).data), { v: 'secret-zero' });
    assert.equal(errCode(await g.client().request('POST', 'sys/wrapping/unwrap', { token: token2 })), 'ERR_WRAPPING_INVALID');
    const bad = await g.root.request('GET', 'secret/data/handoff', undefined, { 'X-Vault-Wrap-TTL': 'forever' });
    assert.equal(bad.status, 400);
  });

  it("wraps a caller's own data (sys/wrapping/wrap, as the Vault CLI sends it) and keeps it out of the audit log", async () => {
    const marker = 'MARKER-wrapped-by-hand-5e2b';
    // Refused before it runs (a bad token): still audited with every field HMAC'd.
    const badToken = await g.client('hvs.not-a-real-token').request('POST', 'sys/wrapping/wrap', { note: marker }, { 'X-Vault-Wrap-TTL': '5m' });
    assert.equal(badToken.status, 403);
    const refused = await g.root.request('POST', 'sys/wrapping/wrap', { note: marker });
    assert.equal(refused.status, 400, 'without a wrap TTL there is nothing to wrap into');
    assert.match(errMessage(refused), /requires response wrapping/);
    assert.equal(errMessage(refused).includes(marker), false);
    const w = await g.root.request('POST', 'sys/wrapping/wrap', { note: marker, nested: { pin: '1234' } }, { 'X-Vault-Wrap-TTL': '5m' });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const info = w.body['wrap_info'] as { token: string; creation_path: string };
    assert.equal(info.creation_path, 'sys/wrapping/wrap');
    assert.equal(w.body['data'], null);
    const u = await g.client().request('POST', 'sys/wrapping/unwrap', { token: info.token });
    assert.deepEqual(u.body['data'], { note: marker, nested: { pin: '1234' } });
    await waitFor('the unwrap in the audit log', async () => ((await readFile(g.auditLog, 'utf8')).split('"path":"sys/wrapping/wrap"').length >= 5 ? true : undefined));
    assert.equal((await readFile(g.auditLog, 'utf8')).includes(marker), false, 'the audit log holds the wrapped data');
  });
});
