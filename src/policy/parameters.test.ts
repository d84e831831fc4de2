import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Acl } from './acl.ts';
import { parsePolicy } from './parse.ts';

const acl = (...docs: string[]) => new Acl(docs.map((d, i) => parsePolicy(`p${i}`, d)));

describe('parameter constraints', () => {
  it('allows only listed parameters and values', () => {
    const a = acl(`path "transit/encrypt/*" {
      capabilities = ["update"]
      allowed_parameters = { "plaintext" = [], "context" = [], "key_version" = ["1", "2"] }
    }`);
    assert.equal(a.allows('transit/encrypt/k', 'update', { plaintext: 'eA==' }), true);
    assert.equal(a.allows('transit/encrypt/k', 'update', { plaintext: 'eA==', key_version: '2' }), true);
    assert.equal(a.allows('transit/encrypt/k', 'update', { plaintext: 'eA==', key_version: '3' }), false);
    assert.equal(a.allows('transit/encrypt/k', 'update', { plaintext: 'eA==', convergent: true }), false);
    assert.equal(a.check('transit/encrypt/k', 'update', { convergent: true }).parametersDenied, true);
    // without data the capability check alone applies
    assert.equal(a.allows('transit/encrypt/k', 'update'), true);
  });

  it('denies listed parameters, any value for an empty list, everything for *', () => {
    const a = acl(`path "secret/data/*" {
      capabilities = ["create", "update"]
      denied_parameters = { "options" = [] , "mode" = ["dangerous*"] }
    }`);
    assert.equal(a.allows('secret/data/x', 'update', { data: { a: 1 } }), true);
    assert.equal(a.allows('secret/data/x', 'update', { data: {}, options: { cas: 0 } }), false);
    assert.equal(a.allows('secret/data/x', 'update', { mode: 'dangerously-fast' }), false);
    assert.equal(a.allows('secret/data/x', 'update', { mode: 'safe' }), true);
    const all = acl('path "x" { capabilities = ["update"]\n denied_parameters = { "*" = [] } }');
    assert.equal(all.allows('x', 'update', { anything: 1 }), false);
    assert.equal(all.allows('x', 'update', {}), true);
  });

  it('requires listed parameters', () => {
    const a = acl('path "x" { capabilities = ["create"]\n required_parameters = ["reason"] }');
    assert.equal(a.allows('x', 'create', { reason: 'ticket-1' }), true);
    assert.equal(a.allows('x', 'create', { other: 1 }), false);
    assert.equal(a.allows('x', 'create', {}), false);
  });

  it('matches comma lists and arrays element by element', () => {
    const a = acl('path "auth/token/create" { capabilities = ["update"]\n allowed_parameters = { "policies" = ["app-*", "default"] } }');
    assert.equal(a.allows('auth/token/create', 'update', { policies: ['app-a', 'default'] }), true);
    assert.equal(a.allows('auth/token/create', 'update', { policies: 'app-a, default' }), true);
    assert.equal(a.allows('auth/token/create', 'update', { policies: ['app-a', 'root'] }), false);
    assert.equal(a.allows('auth/token/create', 'update', { policies: 'root' }), false);
  });

  it('merges constraints of the same path across policies: an empty list wins', () => {
    const a = acl(
      'path "x" { capabilities = ["update"]\n allowed_parameters = { "k" = ["1"] } }',
      'path "x" { capabilities = ["update"]\n allowed_parameters = { "k" = ["2"], "j" = [] } }',
    );
    assert.equal(a.allows('x', 'update', { k: '1' }), true);
    assert.equal(a.allows('x', 'update', { k: '2', j: 'any' }), true);
    assert.equal(a.allows('x', 'update', { k: '3' }), false);
    const b = acl('path "x" { capabilities = ["update"]\n allowed_parameters = { "k" = ["1"] } }', 'path "x" { capabilities = ["update"]\n allowed_parameters = { "k" = [] } }');
    assert.equal(b.allows('x', 'update', { k: 'anything' }), true);
  });

  it('treats parameter names like __proto__ as plain names', () => {
    const a = acl('{"path":{"x":{"capabilities":["update"],"allowed_parameters":{"__proto__":[],"constructor":["a"]}}}}');
    assert.equal(a.allows('x', 'update', { constructor: 'a' }), true);
    assert.equal(a.allows('x', 'update', { constructor: 'b' }), false);
    assert.equal(a.allows('x', 'update', { toString: 'b' }), false);
  });

  it('ignores constraints for list and delete', () => {
    const a = acl('path "x/*" { capabilities = ["list", "delete"]\n required_parameters = ["reason"] }');
    assert.equal(a.allows('x/', 'list', {}), true);
    assert.equal(a.allows('x/y', 'delete', {}), true);
  });
});
