import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogicalResponse } from '../core/index.ts';
import { bareErrorBody, envelope, envelopeJson, refusalError } from './response.ts';

describe('envelope', () => {
  it('renders Vault\'s envelope around data, warnings and auth', () => {
    assert.deepEqual(envelope({ status: 200, mountType: 'kv', data: { a: 1 } }, 'rid', 'secret/data/x'), {
      request_id: 'rid', lease_id: '', renewable: false, lease_duration: 0, data: { a: 1 }, wrap_info: null, warnings: null, auth: null, mount_type: 'kv',
    });
    assert.deepEqual(envelope({ status: 200, mountType: 'kv', warnings: ['w'] }, 'rid', 'x').warnings, ['w']);
  });

  it('copies data to the top level for the sys routes old clients read there', () => {
    const e = envelope({ status: 200, mountType: 'system', data: { 'secret/': { type: 'kv' } } }, 'rid', 'sys/mounts');
    assert.deepEqual(e['secret/'], { type: 'kv' });
    assert.equal(envelope({ status: 200, mountType: 'kv', data: { k: 1 } }, 'rid', 'secret/data/sys/mounts')['k'], undefined);
  });
});

describe('envelopeJson', () => {
  it('is byte for byte the JSON of the envelope', () => {
    const responses: LogicalResponse[] = [
      { status: 200, mountType: 'kv', data: { data: { password: 'p"\\\u2028é' }, metadata: { version: 1, custom_metadata: null } } },
      { status: 200, mountType: 'kv', data: null },
      { status: 200, mountType: 'kv' },
      { status: 200, mountType: 'kv', warnings: [] },
      { status: 200, mountType: 'kv', warnings: ['w1', 'w"2'], data: { a: [1, 2, { b: true }] } },
      { status: 200, mountType: 'token', auth: { client_token: 't', policies: ['root'], metadata: null } },
      { status: 404, mountType: 'kv', data: { x: undefined, y: 1 } },
      { status: 200, mountType: undefined as unknown as string, data: { a: 1 } },
      { status: 200, mountType: 'system', data: { 'secret/': { type: 'kv' } } },
      { status: 200, mountType: 'system', data: { keys: ['a'] } },
      // Response wrapping and control-group requests answer wrap_info instead of data.
      { status: 200, mountType: 'transit', wrapInfo: { token: 'hvs.w', accessor: 'acc', ttl: 60, creation_path: 'transit/keys/k/rotate' } },
    ];
    for (const path of ['secret/data/x', 'sys/mounts', 'sys/mounts/', 'sys/policy/p', 'sys/health', 'auth/token/lookup-self', '']) {
      for (const r of responses) assert.equal(envelopeJson(r, 'rid-"1', path), JSON.stringify(envelope(r, 'rid-"1', path)), `${path} ${JSON.stringify(r)}`);
    }
  });
});

describe('bareErrorBody', () => {
  it('answers an engine status without data in the error shape, with Vault\'s empty errors list', () => {
    assert.deepEqual(bareErrorBody(404, 'rid'), { errors: [], error: { code: 'ERR_NOT_FOUND', message: 'nothing is stored at this path', requestId: 'rid' } });
  });
});

describe('refusalError', () => {
  it("gives a refusal Vault answers in its envelope Arca's code, with the warnings as the message", () => {
    const res = { status: 404, mountType: 'kv', warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'] };
    assert.deepEqual(refusalError(res, 'rid'), { code: 'ERR_NOT_FOUND', message: 'Non-listing operations on the root of a K/V v2 mount are not supported.', requestId: 'rid' });
    assert.equal(refusalError({ status: 400, mountType: 'kv', warnings: ['a', 'b'] }, 'rid')['code'], 'ERR_INVALID_REQUEST');
  });
});
