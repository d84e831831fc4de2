import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { mapRequest, tokenOf } from './request-map.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const code = (c: string) => (e: unknown) => isArcaError(e) && e.code === c;

describe('mapRequest', () => {
  it('maps GET to read with the query as data, dropping help', () => {
    assert.deepEqual(mapRequest('GET', '/v1/secret/data/a?version=2&help=1', {}, undefined), { operation: 'read', path: 'secret/data/a', data: { version: '2' } });
  });

  it('maps GET ?list=true to a list of the path with a trailing slash', () => {
    assert.deepEqual(mapRequest('GET', '/v1/secret/metadata/admin?list=true', {}, undefined), { operation: 'list', path: 'secret/metadata/admin/', data: {} });
    assert.equal(mapRequest('GET', '/v1/secret/metadata/?list=false', {}, undefined).operation, 'read');
    assert.throws(() => mapRequest('GET', '/v1/x?list=maybe', {}, undefined), code('ERR_INVALID_REQUEST'));
  });

  it('maps PUT/POST to write with the parsed body, and refuses a write to a folder', () => {
    assert.deepEqual(mapRequest('POST', '/v1/transit/encrypt/k', {}, json({ plaintext: 'aGk=' })), { operation: 'write', path: 'transit/encrypt/k', data: { plaintext: 'aGk=' } });
    assert.throws(() => mapRequest('PUT', '/v1/secret/data/', {}, json({})), code('ERR_INVALID_REQUEST'));
  });

  it('requires merge-patch JSON for PATCH (415 otherwise)', () => {
    assert.equal(mapRequest('PATCH', '/v1/secret/data/a', { 'content-type': 'application/merge-patch+json' }, json({ data: {} })).operation, 'patch');
    assert.throws(() => mapRequest('PATCH', '/v1/secret/data/a', { 'content-type': 'application/json' }, json({})), code('ERR_UNSUPPORTED_MEDIA_TYPE'));
  });

  it('maps DELETE with the query as data', () => {
    assert.deepEqual(mapRequest('DELETE', '/v1/secret/data/a?x=1', {}, undefined), { operation: 'delete', path: 'secret/data/a', data: { x: '1' } });
  });

  it('refuses bad percent-encoding and non-printable paths with a coded 400', () => {
    assert.throws(() => mapRequest('GET', '/v1/%zz', {}, undefined), code('ERR_INVALID_REQUEST'));
    assert.throws(() => mapRequest('GET', '/v1/a%0Ab', {}, undefined), code('ERR_INVALID_REQUEST'));
  });
});

describe('tokenOf', () => {
  it('reads X-Vault-Token, then a Bearer authorization', () => {
    assert.equal(tokenOf({ 'x-vault-token': 'a', authorization: 'Bearer b' }), 'a');
    assert.equal(tokenOf({ authorization: 'Bearer b' }), 'b');
    assert.equal(tokenOf({ 'x-vault-token': '' }), undefined);
    assert.equal(tokenOf({ authorization: 'Basic x' }), undefined);
  });
});
