import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeAt, codeStep, findRecoveryCode, hashRecoveryCode, newRecoveryCodes, newSecret, otpauthUrl } from './totp.ts';

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (base32 below): T = 59 s → 94287082 (8 digits).
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it('matches the RFC 6238 vector (6-digit truncation) and reports its step', () => {
    assert.equal(codeAt(RFC_SECRET, 59_000), '287082');
    assert.equal(codeStep(RFC_SECRET, '287082', 59_000), 1);
  });

  it('accepts ±1 step and nothing further', () => {
    const s = newSecret();
    const now = 1_700_000_015_000;
    const step = Math.floor(now / 30_000);
    assert.equal(codeStep(s, codeAt(s, now - 30_000), now), step - 1);
    assert.equal(codeStep(s, codeAt(s, now + 30_000), now), step + 1);
    assert.equal(codeStep(s, codeAt(s, now + 60_000), now), undefined);
    assert.equal(codeStep(s, codeAt(s, now - 60_000), now), undefined);
    assert.equal(codeStep(s, 'abcdef', now), undefined);
  });

  it('builds an otpauth URL carrying the secret and issuer', () => {
    const u = new URL(otpauthUrl('JBSWY3DPEHPK3PXP', 'Arca', 'alice'));
    assert.equal(u.protocol, 'otpauth:');
    assert.equal(u.searchParams.get('secret'), 'JBSWY3DPEHPK3PXP');
    assert.equal(u.searchParams.get('issuer'), 'Arca');
  });

  it('finds recovery codes by hash only', () => {
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    const hashes = codes.map(hashRecoveryCode);
    assert.equal(findRecoveryCode(hashes, codes[3]!), 3);
    assert.equal(findRecoveryCode(hashes, ` ${codes[3]!.toUpperCase()} `), 3);
    assert.equal(findRecoveryCode(hashes, 'nope'), -1);
  });
});
