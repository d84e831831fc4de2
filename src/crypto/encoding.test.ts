/** Accessors never start with "-" (a CLI would read one as an option), and keep base64url otherwise. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeB64Strict, toAccessor } from './encoding.ts';

describe('toAccessor', () => {
  it('maps a leading "-" to "A" and leaves every other accessor as base64url', () => {
    // 0xF8 = 111110 00: the first six bits are 62, base64url's "-".
    const dash = Uint8Array.from([0xf8, ...randomBytes(17)]);
    assert.equal(Buffer.from(dash).toString('base64url')[0], '-');
    const a = toAccessor(dash);
    assert.equal(a[0], 'A');
    assert.equal(a.slice(1), Buffer.from(dash).toString('base64url').slice(1));
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(18);
      const s = toAccessor(b);
      assert.match(s, /^[A-Za-z0-9_][A-Za-z0-9_-]{23}$/);
      if (Buffer.from(b).toString('base64url')[0] !== '-') assert.equal(s, b.toString('base64url'));
    }
    // A view into a larger buffer encodes only its own bytes.
    const big = randomBytes(42);
    assert.equal(toAccessor(big.subarray(0, 18)).length, 24);
  });
});

describe('decodeB64Strict', () => {
  it('decodes exactly padded standard base64, and nothing else', () => {
    for (const ok of ['', 'QQ==', 'QUI=', 'QUJD', 'QUJDRA==', '+/+/']) assert.deepEqual(decodeB64Strict(ok), new Uint8Array(Buffer.from(ok, 'base64')), ok);
    for (const bad of ['Q', 'QQ=', 'QQ', 'Q===', '====', 'QQ==QUJD', 'Q=Q=', 'QUJ-', 'QUJ_', 'QUJ D', 'QUJD\n']) assert.equal(decodeB64Strict(bad), undefined, bad);
  });

  it('checks a 32 MiB input without overflowing the stack', () => {
    const big = 'QUJD'.repeat(8 * 1024 * 1024);
    assert.equal(decodeB64Strict(big)?.length, 24 * 1024 * 1024);
    assert.equal(decodeB64Strict(`${big}Q`), undefined);
  });
});
