import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../logical/index.ts';
import { Acl, capabilityNames, operationCapability } from './acl.ts';
import { DEFAULT_POLICY_TEXT, ROOT_POLICY } from './builtin.ts';
import { parsePolicy } from './parse.ts';

const acl = (...docs: string[]) => new Acl(docs.map((d, i) => parsePolicy(`p${i}`, d)));
const caps = (a: Acl, path: string, op: Operation = 'read') => [...a.capabilities(path, op)].sort();

describe('Acl matching', () => {
  it('denies by default when no rule matches', () => {
    const a = acl('path "secret/data/app" { capabilities = ["read"] }');
    assert.equal(a.allows('secret/data/other', 'read'), false);
    assert.equal(a.allows('transit/keys/x', 'read'), false);
    assert.equal(new Acl([]).allows('anything', 'read'), false);
  });

  it('lets an exact rule win over a glob even when it grants less', () => {
    // vault-api-subset §2.9: A `secret/data/*` [read], B `secret/data/app` [update] → read of secret/data/app denied.
    const a = acl('path "secret/data/*" { capabilities = ["read"] }', 'path "secret/data/app" { capabilities = ["update"] }');
    assert.equal(a.allows('secret/data/app', 'read'), false);
    assert.equal(a.allows('secret/data/app', 'update'), true);
    assert.equal(a.allows('secret/data/other', 'read'), true);
  });

  it('treats a trailing * as a raw string prefix', () => {
    const a = acl('path "secret/data/app*" { capabilities = ["read"] }');
    for (const p of ['secret/data/app', 'secret/data/apple/x', 'secret/data/app/db']) assert.equal(a.allows(p, 'read'), true, p);
    assert.equal(a.allows('secret/data/ap', 'read'), false);
  });

  it('uses the longest matching prefix rule', () => {
    const a = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["list"] }');
    assert.deepEqual(caps(a, 'secret/data/x'), ['list']);
    assert.deepEqual(caps(a, 'secret/metadata/x'), ['read']);
  });

  it('matches + as exactly one segment', () => {
    const a = acl('path "secret/data/+/config" { capabilities = ["read"] }');
    assert.equal(a.allows('secret/data/team-a/config', 'read'), true);
    assert.equal(a.allows('secret/data/a/b/config', 'read'), false);
    assert.equal(a.allows('secret/data/config', 'read'), false);
    assert.equal(a.allows('secret/data/team-a/config/x', 'read'), false);
  });

  it('combines + with a trailing *', () => {
    const a = acl('path "secret/+/app/*" { capabilities = ["read"] }');
    assert.equal(a.allows('secret/data/app/db', 'read'), true);
    assert.equal(a.allows('secret/metadata/app/x/y', 'read'), true);
    assert.equal(a.allows('secret/data/other/db', 'read'), false);
    const b = acl('path "secret/+/ap*" { capabilities = ["read"] }');
    assert.equal(b.allows('secret/data/apple/x', 'read'), true);
  });

  it('prefers the rule whose first wildcard appears later', () => {
    const a = acl('path "secret/+/app/db" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["list"] }');
    // `secret/data/*`'s glob starts at 12, `+` at 7: the prefix rule wins.
    assert.deepEqual(caps(a, 'secret/data/app/db'), ['list']);
    const b = acl('path "secret/data/app/+" { capabilities = ["read"] }', 'path "secret/*" { capabilities = ["list"] }');
    assert.deepEqual(caps(b, 'secret/data/app/db'), ['read']);
  });

  it('prefers a rule without trailing * when the first wildcard is at the same place', () => {
    const a = acl('path "secret/+/db" { capabilities = ["read"] }', 'path "secret/+/db*" { capabilities = ["list"] }');
    assert.deepEqual(caps(a, 'secret/x/db'), ['read']);
    assert.deepEqual(caps(a, 'secret/x/db2'), ['list']);
  });

  it('prefers fewer + segments, then the longer pattern, then the lexicographically greater', () => {
    const fewer = acl('path "a/+/+/d" { capabilities = ["read"] }', 'path "a/+/c/d" { capabilities = ["list"] }');
    assert.deepEqual(caps(fewer, 'a/b/c/d'), ['list']);
    const longer = acl('path "a/+/c*" { capabilities = ["read"] }', 'path "a/+/cd*" { capabilities = ["list"] }');
    assert.deepEqual(caps(longer, 'a/b/cde'), ['list']);
    const lex = acl('path "a/+/x" { capabilities = ["read"] }', 'path "a/+/y" { capabilities = ["list"] }');
    assert.deepEqual(caps(lex, 'a/b/x'), ['read']);
  });

  it('merges the same path string across policies and lets deny win there', () => {
    const merged = acl('path "secret/data/*" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["list"] }');
    assert.deepEqual(caps(merged, 'secret/data/x'), ['list', 'read']);
    const denied = acl('path "secret/data/*" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["deny"] }');
    assert.equal(denied.allows('secret/data/x', 'read'), false);
    assert.deepEqual(capabilityNames(denied.capabilities('secret/data/x'), denied.isRoot), ['deny']);
    // deny merged first, grants after: still deny
    const denyFirst = acl('path "x" { capabilities = ["deny"] }', 'path "x" { capabilities = ["read"] }');
    assert.equal(denyFirst.allows('x', 'read'), false);
  });

  it('does not let a deny on another path string override the deciding rule', () => {
    const a = acl('path "secret/*" { capabilities = ["deny"] }', 'path "secret/data/app" { capabilities = ["read"] }');
    assert.equal(a.allows('secret/data/app', 'read'), true);
    assert.equal(a.allows('secret/data/other', 'read'), false);
  });

  it('applies an exact rule without the trailing slash to a list', () => {
    const a = acl('path "secret/metadata/app" { capabilities = ["list"] }');
    assert.equal(a.allows('secret/metadata/app/', 'list'), true);
    assert.equal(a.allows('secret/metadata/app/', 'read'), false);
    // without an operation, a trailing slash means a list
    assert.deepEqual([...a.capabilities('secret/metadata/app/')], ['list']);
    assert.deepEqual([...a.capabilities('secret/metadata/app/', 'read')], []);
  });

  it('matches glob rules against the list path with its trailing slash, as Vault does', () => {
    const a = acl('path "secret/metadata/app*" { capabilities = ["list"] }');
    assert.equal(a.allows('secret/metadata/app/', 'list'), true);
    // A segment rule names a whole segment count: `secret/metadata/app/` has four segments.
    const b = acl('path "secret/metadata/+" { capabilities = ["list"] }');
    assert.equal(b.allows('secret/metadata/app/', 'list'), false);
    assert.equal(acl('path "secret/metadata/+/" { capabilities = ["list"] }').allows('secret/metadata/app/', 'list'), true);
  });

  it('keeps a deny on X/* against a LIST of X/ (issue 12 item 4)', () => {
    const a = acl('path "secret/metadata/*" { capabilities = ["list"] }', 'path "secret/metadata/admin/*" { capabilities = ["deny"] }');
    assert.equal(a.allows('secret/metadata/admin/', 'list'), false);
    assert.equal(a.allows('secret/metadata/admin/x/', 'list'), false);
    assert.equal(a.allows('secret/metadata/other/', 'list'), true);
    assert.equal(a.allows('secret/metadata/', 'list'), true);
  });

  it('strips leading slashes from the request path', () => {
    assert.equal(acl('path "a/b" { capabilities = ["read"] }').allows('//a/b', 'read'), true);
  });

  it('requires sudo on root-protected paths', () => {
    const noSudo = acl('path "sys/audit/*" { capabilities = ["create", "update", "delete"] }');
    const d = noSudo.check('sys/audit/file', 'update');
    assert.equal(d.allowed, false);
    assert.equal(d.sudoRequired, true);
    const sudo = acl('path "sys/audit/*" { capabilities = ["update", "sudo"] }');
    assert.equal(sudo.allows('sys/audit/file', 'update'), true);
    assert.equal(sudo.allows('sys/audit/file', 'delete'), false);
    // sys/policies is not sudo-protected
    assert.equal(acl('path "sys/policies/acl/*" { capabilities = ["update"] }').allows('sys/policies/acl/x', 'update'), true);
    const custom = new Acl([parsePolicy('p', 'path "x/y" { capabilities = ["read"] }')], { rootPaths: ['x/*'] });
    assert.equal(custom.allows('x/y', 'read'), false);
  });

  it('maps operations to capabilities', () => {
    const ops: Operation[] = ['read', 'list', 'create', 'update', 'patch', 'delete'];
    assert.deepEqual(ops.map(operationCapability), ops);
    const a = acl('path "k/*" { capabilities = ["create"] }');
    assert.equal(a.allows('k/x', 'create'), true);
    assert.equal(a.allows('k/x', 'update'), false);
    assert.equal(a.allows('k/x', 'patch'), false);
  });

  it('gives root everything, including sudo paths', () => {
    const root = new Acl([ROOT_POLICY]);
    assert.equal(root.isRoot, true);
    assert.equal(root.allows('sys/audit/file', 'update'), true);
    assert.equal(root.allows('anything/at/all', 'delete'), true);
    assert.deepEqual(capabilityNames(root.capabilities('x'), root.isRoot), ['root']);
  });

  it('answers capabilities-self sorted, with deny when nothing applies', () => {
    const a = acl('path "secret/data/app" { capabilities = ["update", "read", "create"] }');
    assert.deepEqual(capabilityNames(a.capabilities('secret/data/app'), a.isRoot), ['create', 'read', 'update']);
    assert.deepEqual(capabilityNames(a.capabilities('nope'), a.isRoot), ['deny']);
  });

  it('lets the default policy manage the token itself and nothing else', () => {
    const a = new Acl([parsePolicy('default', DEFAULT_POLICY_TEXT)]);
    assert.equal(a.allows('auth/token/lookup-self', 'read'), true);
    assert.equal(a.allows('auth/token/renew-self', 'update'), true);
    assert.equal(a.allows('auth/token/revoke-self', 'update'), true);
    assert.equal(a.allows('sys/capabilities-self', 'update'), true);
    assert.equal(a.allows('cubbyhole/x', 'create'), true);
    assert.equal(a.allows('auth/token/create', 'update'), false);
    assert.equal(a.allows('sys/policies/acl/default', 'update'), false);
    assert.equal(a.allows('sys/policies/acl', 'list'), false);
    assert.equal(a.allows('secret/data/x', 'read'), false);
  });

  it('reports whether anything is granted under a mount', () => {
    const a = acl('path "secret/data/app/*" { capabilities = ["read"] }', 'path "kv/+/x" { capabilities = ["read"] }');
    assert.equal(a.hasAnyUnder('secret/'), true);
    assert.equal(a.hasAnyUnder('kv/'), true);
    assert.equal(a.hasAnyUnder('transit/'), false);
    assert.equal(acl('path "secret/*" { capabilities = ["deny"] }').hasAnyUnder('secret/'), false);
    assert.equal(acl('path "*" { capabilities = ["read"] }').hasAnyUnder('secret/'), true);
  });
});
