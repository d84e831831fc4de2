/** Token roles' pure rules: the upsert and its checks, and Vault's policy resolution for a role-based create. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { mergeRole, resolveRolePolicies, roleData, type TokenRole } from './token-roles.ts';

const base = mergeRole(
  { allowed_policies: [], allowed_policies_glob: [], disallowed_policies: [], disallowed_policies_glob: [], orphan: false, renewable: true, path_suffix: '', token_period: 0, token_explicit_max_ttl: 0, token_num_uses: 0, token_bound_cidrs: [], token_no_default_policy: false, token_type: 'default-service' },
  {},
);
const role = (data: Record<string, unknown>): TokenRole => mergeRole(base, data);
const bad = (message: RegExp) => (err: unknown) => isArcaError(err, 'ERR_INVALID_REQUEST') && message.test(err.message);
const parent = { policies: ['default', 'ops'], root: false };

describe('token role fields', () => {
  it('upserts the given fields, the token_ name winning over the older one, and reads back as Vault', () => {
    const r = role({ allowed_policies: 'B, a', period: '1h', token_period: '2h', explicit_max_ttl: 60, bound_cidrs: '10.0.0.0/8' });
    assert.deepEqual([r.allowed_policies, r.token_period, r.token_explicit_max_ttl, r.token_bound_cidrs], [['a', 'b'], 7200, 60, ['10.0.0.0/8']]);
    const again = mergeRole(r, { orphan: true });
    assert.deepEqual([again.allowed_policies, again.orphan, again.token_period], [['a', 'b'], true, 7200]);
    const d = roleData('x', again);
    assert.deepEqual([d['name'], d['period'], d['token_period'], d['explicit_max_ttl'], d['token_type']], ['x', 7200, 7200, 60, 'default-service']);
    assert.equal(role({ token_type: 'default' }).token_type, 'default-service');
  });

  it('refuses root, entity aliases, a path suffix that climbs, batch with a period or uses, and a bad CIDR', () => {
    assert.throws(() => role({ allowed_policies: ['root'] }), bad(/cannot allow the root policy/));
    assert.throws(() => role({ allowed_entity_aliases: ['a'] }), bad(/allowed_entity_aliases/));
    for (const suffix of ['../x', 'a/../b', '/a', 'a b']) assert.throws(() => role({ path_suffix: suffix }), bad(/path_suffix/), suffix);
    assert.throws(() => role({ token_type: 'batch', token_period: 60 }), bad(/periodic/));
    assert.throws(() => role({ token_type: 'batch', token_num_uses: 2 }), bad(/limited use count/));
    assert.throws(() => role({ token_bound_cidrs: ['not-a-cidr'] }), (err: unknown) => isArcaError(err) && /token_bound_cidrs/.test(err.message));
  });
});

describe("a role-based create's policies", () => {
  it('takes the allowed list (and globs) instead of the parent, adding default', () => {
    const r = role({ allowed_policies: ['app-a'], allowed_policies_glob: ['team-*'] });
    assert.deepEqual(resolveRolePolicies(r, [], parent, false), ['app-a', 'default']);
    assert.deepEqual(resolveRolePolicies(r, ['team-x', 'APP-A'], parent, false), ['app-a', 'default', 'team-x']);
    assert.throws(() => resolveRolePolicies(r, ['ops'], parent, false), bad(/must be subset of the role's allowed policies/));
  });

  it('without an allowed list, keeps the parent rule', () => {
    const r = role({ disallowed_policies: ['ops'] });
    assert.throws(() => resolveRolePolicies(r, ['other'], parent, false), bad(/child policies must be subset of parent/));
    assert.throws(() => resolveRolePolicies(r, [], parent, false), bad(/"ops" is disallowed/), "the parent's own policies are checked too");
    assert.deepEqual(resolveRolePolicies(r, ['other'], { policies: ['root'], root: true }, false), ['default', 'other']);
    // Vault's rule for any token create: `root` stands alone (as auth/token/create without a role).
    assert.deepEqual(resolveRolePolicies(role({}), ['root', 'x'], { policies: ['root'], root: true }, false), ['root']);
  });

  it('refuses disallowed policies (and globs), and leaves default out when asked or disallowed', () => {
    const r = role({ allowed_policies_glob: ['*'], disallowed_policies_glob: ['admin-*'] });
    assert.throws(() => resolveRolePolicies(r, ['admin-db'], parent, false), bad(/"admin-db" is disallowed/));
    assert.deepEqual(resolveRolePolicies(r, ['x'], parent, true), ['x']);
    assert.deepEqual(resolveRolePolicies(mergeRole(r, { token_no_default_policy: true }), ['x'], parent, false), ['x']);
    assert.deepEqual(resolveRolePolicies(mergeRole(r, { disallowed_policies: ['default'] }), ['x'], parent, false), ['x']);
    assert.throws(() => resolveRolePolicies(role({}), ['root'], parent, false), bad(/root tokens may not be created/));
    assert.throws(() => resolveRolePolicies(r, ['root'], parent, false), bad(/root tokens may not be created/), 'not even through a glob that matches it');
  });
});
