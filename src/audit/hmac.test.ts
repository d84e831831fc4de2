import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { auditHmac, DEFAULT_SENSITIVE_FIELDS, redact } from './hmac.ts';

const KEY = new Uint8Array(32).fill(7);

describe('auditHmac', () => {
  it('is hmac-sha256:<hex> of the input under the key', () => {
    const want = createHmac('sha256', KEY).update('hello').digest('hex');
    assert.equal(auditHmac(KEY, 'hello'), `hmac-sha256:${want}`);
    assert.match(auditHmac(KEY, ''), /^hmac-sha256:[0-9a-f]{64}$/);
    assert.notEqual(auditHmac(new Uint8Array(32), 'hello'), auditHmac(KEY, 'hello'));
  });
});

describe('redact', () => {
  it('HMACs sensitive fields at any depth and leaves the rest', () => {
    const input = {
      path: 'secret/data/app',
      options: { cas: 1 },
      data: { password: 's3cret', nested: { api: 'k-123' }, list: ['a', 2, true, null] },
      batch_input: [{ plaintext: 'cGxhaW4=', context: 'Y3R4' }],
      auth: { client_token: 'hvs.abc', accessor: 'acc-1', policies: ['default'] },
      ciphertext: 'vault:v1:xyz',
    };
    const out = redact(input, KEY, DEFAULT_SENSITIVE_FIELDS) as typeof input;
    assert.equal(out.path, 'secret/data/app');
    assert.deepEqual(out.options, { cas: 1 });
    assert.equal(out.data.password, auditHmac(KEY, 's3cret'));
    assert.equal(out.data.nested.api, auditHmac(KEY, 'k-123'));
    assert.deepEqual(out.data.list, [auditHmac(KEY, 'a'), auditHmac(KEY, '2'), true, null]);
    assert.equal(out.batch_input[0]!.plaintext, auditHmac(KEY, 'cGxhaW4='));
    assert.equal(out.batch_input[0]!.context, 'Y3R4');
    assert.equal(out.auth.client_token, auditHmac(KEY, 'hvs.abc'));
    assert.equal(out.auth.accessor, 'acc-1');
    assert.equal(out.ciphertext, 'vault:v1:xyz');
    // the input is untouched
    assert.equal(input.data.password, 's3cret');
  });

  it('matches field names case-insensitively and accepts extra names', () => {
    const out = redact({ Token: 't', mySecret: 'x' }, KEY, [...DEFAULT_SENSITIVE_FIELDS, 'mysecret']) as Record<string, string>;
    assert.equal(out['Token'], auditHmac(KEY, 't'));
    assert.equal(out['mySecret'], auditHmac(KEY, 'x'));
  });

  it('HMACs a pending MFA login id whichever auth method answered it', () => {
    const out = redact({ auth: { mfa_requirement: { mfa_request_id: 'req-1', mfa_constraints: {} } } }, KEY, DEFAULT_SENSITIVE_FIELDS) as { auth: { mfa_requirement: { mfa_request_id: string } } };
    assert.equal(out.auth.mfa_requirement.mfa_request_id, auditHmac(KEY, 'req-1'));
  });

  it('HMACs every leaf with *', () => {
    const out = redact({ a: 'x', b: { c: 1 } }, KEY, ['*']);
    assert.deepEqual(out, { a: auditHmac(KEY, 'x'), b: { c: auditHmac(KEY, '1') } });
  });

  it('never lets a sensitive string through, whatever the shape', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.string({ minLength: 12, maxLength: 24 }), (shape, secret) => {
        const doc = { wrapper: shape, deeper: [{ token: secret, x: { plaintext: secret } }], data: { any: secret } };
        const text = JSON.stringify(redact(doc, KEY, DEFAULT_SENSITIVE_FIELDS));
        const shapeText = JSON.stringify(shape);
        if (!shapeText.includes(JSON.stringify(secret).slice(1, -1))) assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)));
      }),
      { numRuns: 300 },
    );
  });

  it('survives hostile nesting', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = { n: deep };
    const out = JSON.stringify(redact({ x: deep }, KEY, DEFAULT_SENSITIVE_FIELDS));
    assert.ok(out.includes('hmac-sha256:'));
  });
});
