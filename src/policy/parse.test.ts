import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../errors/index.ts';
import { DEFAULT_POLICY_TEXT } from './builtin.ts';
import { parsePolicy } from './parse.ts';

const HCL = `
# app readers
path "secret/data/app/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}
// metadata
path "secret/metadata/app/*" { capabilities = ["list", "read"] }
/* transit */
path "/transit/encrypt/orders" { capabilities = ["update"] }
path "secret/data/+/config" {
  capabilities = ["read"]
  allowed_parameters = {
    "version" = []
  }
}
`;

const JSON_DOC = JSON.stringify({
  path: {
    'secret/data/app/*': { capabilities: ['create', 'read', 'update', 'patch', 'delete'] },
    'secret/metadata/app/*': { capabilities: ['list', 'read'] },
    '/transit/encrypt/orders': { capabilities: ['update'] },
    'secret/data/+/config': { capabilities: ['read'], allowed_parameters: { version: [] } },
  },
});

const YAML_DOC = `
path:
  "secret/data/app/*":
    capabilities: [create, read, update, patch, delete]
  "secret/metadata/app/*":
    capabilities: [list, read]
  /transit/encrypt/orders:
    capabilities: [update]
  "secret/data/+/config":
    capabilities: [read]
    allowed_parameters:
      version: []
`;

function summary(text: string) {
  return parsePolicy('P', text).rules.map((r) => ({ pattern: r.pattern, kind: r.kind, key: r.key, caps: [...r.capabilities].sort() }));
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isArcaError(err) ? err.code : `not an ArcaError: ${String(err)}`;
  }
  return undefined;
}

describe('parsePolicy', () => {
  it('parses HCL, JSON and YAML of the same policy to the same rules', () => {
    const h = summary(HCL);
    assert.deepEqual(h, [
      { pattern: 'secret/data/app/*', kind: 'prefix', key: 'secret/data/app/', caps: ['create', 'delete', 'patch', 'read', 'update'] },
      { pattern: 'secret/metadata/app/*', kind: 'prefix', key: 'secret/metadata/app/', caps: ['list', 'read'] },
      { pattern: 'transit/encrypt/orders', kind: 'exact', key: 'transit/encrypt/orders', caps: ['update'] },
      { pattern: 'secret/data/+/config', kind: 'segment', key: 'secret/data/+/config', caps: ['read'] },
    ]);
    assert.deepEqual(summary(JSON_DOC), h);
    assert.deepEqual(summary(YAML_DOC), h);
  });

  it('lower-cases the name and keeps the text', () => {
    const p = parsePolicy('App-Reader', HCL);
    assert.equal(p.name, 'app-reader');
    assert.equal(p.text, HCL);
  });

  it('keeps allowed_parameters for later enforcement', () => {
    const r = parsePolicy('p', HCL).rules[3]!;
    assert.deepEqual({ ...r.allowedParameters }, { version: [] });
  });

  it('reduces a stanza with deny to deny only', () => {
    const r = parsePolicy('p', 'path "a/*" { capabilities = ["read", "deny", "list"] }').rules[0]!;
    assert.deepEqual([...r.capabilities], ['deny']);
  });

  it('maps the legacy policy shorthand like Vault', () => {
    const caps = (v: string) => [...parsePolicy('p', `path "a" { policy = "${v}" }`).rules[0]!.capabilities].sort();
    assert.deepEqual(caps('read'), ['list', 'read']);
    assert.deepEqual(caps('write'), ['create', 'delete', 'list', 'read', 'update']);
    assert.deepEqual(caps('sudo'), ['create', 'delete', 'list', 'read', 'sudo', 'update']);
    assert.deepEqual(caps('deny'), ['deny']);
    // node-vault's example document
    const r = parsePolicy('p', '{"path":{"secret/*":{"policy":"write"}}}').rules[0]!;
    assert.equal(r.kind, 'prefix');
    assert.ok(r.capabilities.has('update'));
  });

  it('accepts the HCL-JSON list form, a name key and an empty document', () => {
    const p = parsePolicy('p', '{"name":"x","path":[{"a/b":{"capabilities":["read"]}},{"c":{"capabilities":["list"]}}]}');
    assert.deepEqual(p.rules.map((r) => r.pattern), ['a/b', 'c']);
    assert.equal(parsePolicy('p', '').rules.length, 0);
    assert.equal(parsePolicy('p', '# nothing\n').rules.length, 0);
    assert.equal(parsePolicy('p', 'name = "x"\n').rules.length, 0);
  });

  it('keeps repeated HCL blocks for the same path as separate stanzas', () => {
    const p = parsePolicy('p', 'path "a" { capabilities = ["read"] }\npath "a" { capabilities = ["list"] }');
    assert.equal(p.rules.length, 2);
  });

  it('parses the built-in default policy', () => {
    const p = parsePolicy('default', DEFAULT_POLICY_TEXT);
    assert.ok(p.rules.some((r) => r.pattern === 'auth/token/lookup-self' && r.capabilities.has('read')));
    assert.ok(p.rules.some((r) => r.pattern === 'cubbyhole/*' && r.kind === 'prefix'));
  });

  it('rejects an unknown capability, naming the line and path', () => {
    try {
      parsePolicy('p', '\n\npath "secret/x" {\n  capabilities = ["reed"]\n}\n');
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST'));
      assert.match(err.message, /line 3/);
      assert.match(err.message, /secret\/x/);
    }
    assert.equal(code(() => parsePolicy('p', '{"path":{"a":{"capabilities":["reed"]}}}')), 'ERR_INVALID_REQUEST');
    assert.equal(code(() => parsePolicy('p', 'path:\n  a:\n    capabilities: [reed]\n')), 'ERR_INVALID_REQUEST');
  });

  it('rejects malformed documents with ERR_INVALID_REQUEST', () => {
    const bad = [
      'path "a" { capabilities = ["read"] ',
      'path "a" { capabilities = ["read" "list"] }',
      'path "a" capabilities',
      'path "a" { capabilities = ["read"] }\nfoo "b" {}',
      'path "a" { capabilites = ["read"] }',
      'path "a" { policy = "admin" }',
      'path "a+*" { capabilities = ["read"] }',
      'path "a" { capabilities = "read" ',
      'path "a" { capabilities = [1] }',
      'path "a" "b" { capabilities = ["read"] }',
      'path "a" { x = <<EOF\nhi\nEOF\n}',
      '{"path": {"a": {"capabilities": ["read"]}',
      '{"paths": {}}',
      '{"path": {"a": "read"}}',
      '[1, 2]',
      'path: [1]',
      'path "a" { capabilities = ["read"], capabilities = ["list"] }',
      `path "a" { x = ${'['.repeat(100)}${']'.repeat(100)} }`,
    ];
    for (const text of bad) assert.equal(code(() => parsePolicy('p', text)), 'ERR_INVALID_REQUEST', text);
  });

  it('refuses the reserved root name and an empty name', () => {
    assert.equal(code(() => parsePolicy('root', '')), 'ERR_INVALID_REQUEST');
    assert.equal(code(() => parsePolicy(' ', '')), 'ERR_INVALID_REQUEST');
  });

  it('never crashes on arbitrary input: returns a policy or throws ArcaError', () => {
    const pieces = ['path', '"a/*"', '"+"', '{', '}', '[', ']', '=', ',', ':', '"read"', 'capabilities', '#', '//', '/*', '*/', '\n', ' ', '"', '\\', 'true', '-1.5e3', '<<', '---', 'policy', '"deny"'];
    const structured = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(' '));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), structured, fc.json()), (text) => {
        try {
          const p = parsePolicy('p', text);
          for (const r of p.rules) assert.ok(r.capabilities instanceof Set);
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST'), `unexpected ${String(err)} for ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
