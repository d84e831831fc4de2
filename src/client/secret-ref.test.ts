import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSecretRef, secretDataPath } from './secret-ref.ts';

describe('parseSecretRef', () => {
  it('reads the CLI form <mount>/<path>', () => {
    assert.deepEqual(parseSecretRef('secret/app/db'), { mount: 'secret', path: 'app/db' });
  });

  it('reads the API path <mount>/data/<path> as the same secret', () => {
    assert.deepEqual(parseSecretRef('secret/data/app/db'), parseSecretRef('secret/app/db'));
    assert.deepEqual(parseSecretRef('/kv/data/x'), { mount: 'kv', path: 'x' });
  });

  it('takes the path literally under an explicit mount, so a secret named data/… stays reachable', () => {
    assert.deepEqual(parseSecretRef('data/app', 'secret'), { mount: 'secret', path: 'data/app' });
    assert.deepEqual(parseSecretRef('app/db', '/kv/'), { mount: 'kv', path: 'app/db' });
  });

  it('rejects a reference without a mount with ERR_INVALID_REQUEST, not quoting it', () => {
    for (const ref of ['db', '/db', '', '/']) {
      assert.throws(() => parseSecretRef(ref), (e: { code?: string; message: string }) => {
        assert.equal(e.code, 'ERR_INVALID_REQUEST');
        return true;
      });
    }
    assert.throws(() => parseSecretRef('password-s3cret'), (e: Error) => !e.message.includes('password-s3cret'));
    assert.throws(() => parseSecretRef('x', '//'), { code: 'ERR_INVALID_REQUEST' });
  });

  it('round-trips: the data path of a parsed reference parses back to it', () => {
    assert.equal(secretDataPath(parseSecretRef('secret/app/db')), 'secret/data/app/db');
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.stringMatching(/^[a-z0-9][a-z0-9/_-]{0,20}$/), (mount, path) => {
        const ref = parseSecretRef(`${mount}/${path}`);
        assert.deepEqual(parseSecretRef(secretDataPath(ref)), ref);
      }),
    );
  });
});
