import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Acl } from './acl.ts';
import { parsePolicy } from './parse.ts';

const QUORUM = `
path "transit/keys/+/rotate" {
  capabilities = ["update"]
  control_group = {
    ttl = "1h"
    factor "key-admins" { identity { group_names = ["key-admins"] approvals = 2 } }
    factor "security" { identity { group_names = ["sec"] approvals = 1 } }
  }
}
path "transit/keys/*" {
  capabilities = ["read", "delete"]
  control_group { factor "del" {
    identity { group_names = ["key-admins"] approvals = 1 }
    controlled_capabilities = ["delete"]
  } }
}
path "transit/encrypt/*" { capabilities = ["update"] }`;

describe('control-group policies', () => {
  it('parses factors, approvals and ttl, and reports them for the deciding rule', () => {
    const acl = new Acl([parsePolicy('q', QUORUM)]);
    const cg = acl.controlGroup('transit/keys/k/rotate', 'update');
    assert.equal(cg?.ttl, 3600);
    assert.deepEqual(cg?.factors.map((f) => [f.name, f.groupNames, f.approvals]), [['key-admins', ['key-admins'], 2], ['security', ['sec'], 1]]);
    assert.equal(acl.controlGroup('transit/encrypt/k', 'update'), undefined);
    assert.equal(acl.allows('transit/keys/k/rotate', 'update'), true);
  });

  it('applies a factor only to its controlled capabilities', () => {
    const acl = new Acl([parsePolicy('q', QUORUM)]);
    assert.equal(acl.controlGroup('transit/keys/k', 'read'), undefined);
    assert.equal(acl.controlGroup('transit/keys/k', 'delete')?.factors[0]?.name, 'del');
  });

  it('merges the factors of several policies on one path', () => {
    const other = 'path "transit/keys/+/rotate" { capabilities = ["update"]\n control_group = { factor "ops" { identity { group_names = ["ops"] approvals = 1 } } } }';
    const acl = new Acl([parsePolicy('q', QUORUM), parsePolicy('o', other)]);
    assert.deepEqual(acl.controlGroup('transit/keys/k/rotate', 'update')?.factors.map((f) => f.name).sort(), ['key-admins', 'ops', 'security']);
  });

  it('keeps zero approvals parseable (the core denies them) and refuses malformed blocks', () => {
    const zero = parsePolicy('z', 'path "x" { capabilities = ["update"]\n control_group = { factor "f" { identity { group_names = [] approvals = 0 } } } }');
    assert.equal(zero.rules[0]?.controlGroup?.factors[0]?.approvals, 0);
    for (const bad of [
      'control_group = { }',
      'control_group = { factor "f" { } }',
      'control_group = { factor "f" { identity { group_names = ["g"] approvals = -1 } } }',
      'control_group = { factor "f" { identity { group_names = ["g"] approvals = 1.5 } } }',
      'control_group = { ttl = "forever" factor "f" { identity { group_names = ["g"] approvals = 1 } } }',
      'control_group = { nope = 1 factor "f" { identity { group_names = ["g"] approvals = 1 } } }',
    ]) {
      assert.throws(() => parsePolicy('b', `path "x" { capabilities = ["update"]\n ${bad} }`), (e: { code?: string }) => e.code === 'ERR_INVALID_REQUEST', bad);
    }
  });
});
