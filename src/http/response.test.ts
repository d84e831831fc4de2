import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bareErrorBody, envelope } from './response.ts';

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

describe('bareErrorBody', () => {
  it('answers an engine status without data in the error shape, with Vault\'s empty errors list', () => {
    assert.deepEqual(bareErrorBody(404, 'rid'), { errors: [], error: { code: 'ERR_NOT_FOUND', message: 'nothing is stored at this path', requestId: 'rid' } });
  });
});
