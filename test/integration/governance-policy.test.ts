/** The shipped quorum example (docs/policies/quorum.hcl) parses and holds exactly the operations it names. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { Operation } from '../../src/logical/index.ts';
import { Acl, parsePolicy } from '../../src/policy/index.ts';

describe('docs/policies/quorum.hcl', () => {
  it('puts rotate, key config and delete, audit disable, seal and policy writes under 2 approvals', async () => {
    const text = await readFile(new URL('../../docs/policies/quorum.hcl', import.meta.url), 'utf8');
    const acl = new Acl([parsePolicy('key-admin-quorum', text)]);
    const held: [string, Operation][] = [
      ['transit/keys/k/rotate', 'update'], ['transit/keys/k/config', 'update'], ['transit/keys/k', 'delete'],
      ['sys/audit/file', 'delete'], ['sys/seal', 'update'],
      ['sys/policies/acl/p', 'update'], ['sys/policies/acl/p', 'create'], ['sys/policies/acl/p', 'delete'], ['sys/policy/p', 'update'],
      ['identity/group/name/key-approvers', 'update'], ['identity/entity/id/x', 'update'],
    ];
    for (const [path, op] of held) {
      assert.equal(acl.allows(path, op), true, `${op} ${path} allowed`);
      const cg = acl.controlGroup(path, op);
      assert.deepEqual(cg?.factors.map((f) => [f.groupNames, f.approvals]), [[['key-approvers'], 2]], `${op} ${path} held`);
    }
    const free: [string, Operation][] = [['transit/keys/k', 'create'], ['transit/keys/k', 'read'], ['sys/audit/file', 'update'], ['sys/policies/acl/p', 'read']];
    for (const [path, op] of free) {
      assert.equal(acl.allows(path, op), true, `${op} ${path} allowed`);
      assert.equal(acl.controlGroup(path, op), undefined, `${op} ${path} not held`);
    }
  });
});
