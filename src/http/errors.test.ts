import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArcaError } from '../errors/index.ts';
import { causeChain, errorBody, fromThrown } from './errors.ts';

describe('fromThrown', () => {
  it('gives fastify parser and router failures stable codes', () => {
    assert.equal(fromThrown(Object.assign(new Error('x'), { code: 'FST_ERR_BAD_URL', statusCode: 400 })).code, 'ERR_INVALID_REQUEST');
    assert.equal(fromThrown(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).code, 'ERR_PAYLOAD_TOO_LARGE');
    assert.equal(fromThrown(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.equal(fromThrown(Object.assign(new Error('x'), { code: 'FST_ERR_OTHER', statusCode: 400 })).code, 'ERR_INVALID_REQUEST');
    assert.equal(fromThrown(new TypeError('boom')).code, 'ERR_INTERNAL');
  });
});

describe('errorBody', () => {
  it('keeps 5xx messages generic unless the code is one an operator acts on', () => {
    assert.deepEqual(errorBody(new ArcaError('ERR_STORAGE_UNAVAILABLE', 'pg at 10.0.0.1 refused'), 'r').body, { errors: ['internal error'], error: { code: 'ERR_STORAGE_UNAVAILABLE', message: 'internal error', requestId: 'r' } });
    assert.equal(errorBody(new ArcaError('ERR_SEALED', 'Vault is sealed'), 'r').status, 503);
    assert.deepEqual((errorBody(new ArcaError('ERR_SEALED', 'Vault is sealed'), 'r').body['errors'] as string[])[0], 'Vault is sealed');
  });

  it("answers a not-found without a message as Vault does (empty errors), and still says what happened in Arca's message", () => {
    const { status, body } = errorBody(new ArcaError('ERR_NOT_FOUND', ''), 'r');
    assert.equal(status, 404);
    assert.deepEqual(body, { errors: [], error: { code: 'ERR_NOT_FOUND', message: 'nothing is stored at this path', requestId: 'r' } });
    assert.deepEqual(errorBody(new ArcaError('ERR_NOT_FOUND', 'no such mount'), 'r').body['errors'], ['no such mount']);
  });
});

describe('causeChain', () => {
  it('lists names and codes, and messages only of errors known to hold no request data', () => {
    const driver = Object.assign(new Error('invalid input syntax: "s3cr3t"'), { code: '22P02' });
    const sys = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', syscall: 'connect', cause: driver });
    const top = new ArcaError('ERR_STORAGE_UNAVAILABLE', 'storage unreachable', { cause: sys });
    const chain = causeChain(top);
    assert.deepEqual(chain.slice(0, 2), [
      { name: 'ArcaError', code: 'ERR_STORAGE_UNAVAILABLE', message: 'storage unreachable' },
      { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    ]);
    assert.equal(chain[2]!['code'], '22P02');
    assert.equal(chain[2]!['message'], undefined);
    assert.ok(Array.isArray(chain[2]!['frames']));
    assert.equal(JSON.stringify(chain).includes('s3cr3t'), false);
  });

  it('stops on cycles', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    assert.equal(causeChain(a).length, 1);
  });
});
