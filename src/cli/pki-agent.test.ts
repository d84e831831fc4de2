import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewAt } from './pki-agent.ts';

describe('cert agent renewal time', () => {
  it('renews at the fraction of the shortest remaining lifetime, measured from issuance', () => {
    const issued = 1_000_000_000_000;
    const sec = issued / 1000;
    assert.equal(renewAt(issued, [sec + 120, sec + 3600], 0.5), issued + 60_000);
    assert.equal(renewAt(issued, [sec + 3600], 0.67), issued + 0.67 * 3_600_000);
  });
  it('renews at once when a certificate is already expired', () => {
    const issued = 1_000_000_000_000;
    assert.equal(renewAt(issued, [issued / 1000 - 10], 0.67), issued);
  });
});
