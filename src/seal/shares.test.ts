import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { decodeShare, SHARE_LEN } from './shares.ts';

describe('decodeShare', () => {
  it('takes a share in hex or base64', () => {
    const bytes = new Uint8Array(SHARE_LEN).fill(7);
    assert.deepEqual(decodeShare(Buffer.from(bytes).toString('hex')), bytes);
    assert.deepEqual(decodeShare(` ${Buffer.from(bytes).toString('base64')} `), bytes);
  });

  it('names the kind of key it was given in a refusal, without quoting it', () => {
    const refused = (re: RegExp) => (err: unknown) => isArcaError(err, 'ERR_SEAL_SHARE_MALFORMED') && re.test(err.message) && !err.message.includes('zz9');
    assert.throws(() => decodeShare('zz9'), refused(/not a valid unseal key:/));
    assert.throws(() => decodeShare('zz9', 'recovery keys'), refused(/not a valid recovery key:/));
    assert.throws(() => decodeShare('', 'recovery keys'), refused(/one of the recovery keys/));
  });
});
