/**
 * The precomputed authorizers decide exactly as the generic rule (capabilities + root paths) does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../logical/index.ts';
import { DEFAULT_ROOT_PATHS, matchesRootPath } from '../policy/index.ts';
import { allows, canFunction, DENY_ALL, isUnauthenticated, ROOT_AUTHORIZER } from './authz.ts';

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

  it('opens only login paths relative to their auth mount, and the sys routes that take their own secret', () => {
    const k8s = { path: 'auth/kubernetes/', type: 'kubernetes' };
    const up = { path: 'auth/userpass/', type: 'userpass' };
    const oidc = { path: 'auth/oidc/', type: 'oidc' };
    const cases: [string, { path: string; type: string } | undefined, boolean][] = [
      ['auth/kubernetes/login', k8s, true],
      ['auth/kubernetes/role/login', k8s, false],
      ['auth/userpass/login/alice', up, true],
      ['auth/userpass/users/login', up, false],
      ['auth/userpass/login', up, true],
      ['auth/oidc/oidc/callback', oidc, true],
      ['auth/oidc/oidc/auth_url', oidc, true],
      ['auth/oidc/role/r', oidc, false],
      ['secret/login', { path: 'secret/', type: 'kv' }, false],
      ['auth/nothing/login', undefined, false],
      ['sys/wrapping/unwrap', { path: 'sys/', type: 'system' }, true],
      ['sys/mfa/validate', { path: 'sys/', type: 'system' }, true],
      // Step-up acts for the caller's token: it must stay authenticated.
      ['sys/mfa/step-up', { path: 'sys/', type: 'system' }, false],
      ['sys/mfa/validate/x', { path: 'sys/', type: 'system' }, false],
      ['sys/seal', { path: 'sys/', type: 'system' }, false],
    ];
    for (const [p, m, want] of cases) assert.equal(isUnauthenticated(p, m), want, p);
  });

  it('canFunction gives one function per authorizer that decides as allows', () => {
    assert.equal(canFunction(ROOT_AUTHORIZER), canFunction(ROOT_AUTHORIZER));
    assert.equal(canFunction(ROOT_AUTHORIZER)('sys/raw', 'read'), true);
    assert.equal(canFunction(DENY_ALL)('secret/data/x', 'read'), false);
  });
});
