/**
 * The precomputed authorizers decide exactly as the generic rule (capabilities + root paths) does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../logical/index.ts';
import { DEFAULT_ROOT_PATHS, matchesRootPath } from '../policy/index.ts';
import { allows, canFunction, DENY_ALL, isUnauthenticatedPath, ROOT_AUTHORIZER, UNAUTHENTICATED_PATHS } from './authz.ts';

const OPS: Operation[] = ['read', 'list', 'create', 'update', 'patch', 'delete'];
const PATHS = ['secret/data/x', 'sys/seal', 'sys/audit/file', 'sys/raw', 'sys/rotate/config', 'auth/token/accessors/', 'auth/token/revoke-orphan', 'sys/mounts', '', 'sys/auth/x'];

/** The generic rule as it stood before ROOT_AUTHORIZER had its own `allows`. */
function naiveRootPath(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
}

describe('authz', () => {
  it('root is allowed every operation on every path, root paths included; deny-all nothing', () => {
    for (const p of PATHS) {
      for (const op of OPS) {
        assert.equal(allows(ROOT_AUTHORIZER, p, op), true, `${op} ${p}`);
        assert.equal(allows({ capabilities: () => new Set(ROOT_AUTHORIZER.capabilities(p)) }, p, op), true);
        assert.equal(allows(DENY_ALL, p, op), false);
      }
      assert.deepEqual([...ROOT_AUTHORIZER.capabilities(p)].sort(), ['create', 'delete', 'list', 'patch', 'read', 'sudo', 'update']);
    }
  });

  it('matchesRootPath answers as the per-pattern rule, for the default list and for a list changed between calls', () => {
    const extra = [...PATHS, 'sys/auditx', 'sys/audit', 'sys/leases', 'sys/leases/x', 'auth/token/accessorsZ', 'sys/sealed'];
    for (const p of extra) assert.equal(matchesRootPath(p, DEFAULT_ROOT_PATHS), naiveRootPath(p, DEFAULT_ROOT_PATHS), p);
    const mutable = ['a/*'];
    assert.equal(matchesRootPath('b/x', mutable), false);
    mutable.push('b/*');
    assert.equal(matchesRootPath('b/x', mutable), true);
  });

  it('isUnauthenticatedPath is the login regex', () => {
    for (const p of ['auth/kubernetes/login', 'auth/a/b/login', 'auth/login', 'auth//login', 'xauth/k/login', 'auth/k/login/', 'auth/k/loginx', 'secret/login']) {
      assert.equal(isUnauthenticatedPath(p), UNAUTHENTICATED_PATHS.some((r) => r.test(p)), p);
    }
  });

  it('canFunction gives one function per authorizer that decides as allows', () => {
    assert.equal(canFunction(ROOT_AUTHORIZER), canFunction(ROOT_AUTHORIZER));
    assert.equal(canFunction(ROOT_AUTHORIZER)('sys/raw', 'read'), true);
    assert.equal(canFunction(DENY_ALL)('secret/data/x', 'read'), false);
  });
});
