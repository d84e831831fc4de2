import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { exerciseKeyBackend } from './conformance.ts';
import { SoftwareKeyBackend } from './software.ts';

exerciseKeyBackend('software', async () => new SoftwareKeyBackend(), { type: 'aes256-gcm96', destroyedCode: 'ERR_CRYPTO_DECRYPT' });

describe('SoftwareKeyBackend', () => {
  it('produces standard AES-256-GCM that node:crypto opens with the ref as key', async () => {
    const b = new SoftwareKeyBackend();
    const ref = await b.createVersion('v1');
    assert.equal(ref.length, 32);
    const ct = await b.encrypt(ref, new TextEncoder().encode('interop'), new TextEncoder().encode('aad'));
    const d = createDecipheriv('aes-256-gcm', ref, ct.subarray(0, 12));
    d.setAAD(new TextEncoder().encode('aad'));
    d.setAuthTag(ct.subarray(ct.length - 16));
    const pt = Buffer.concat([d.update(ct.subarray(12, ct.length - 16)), d.final()]);
    assert.equal(pt.toString(), 'interop');
  });

  it('wipes the ref on destroyVersion', async () => {
    const b = new SoftwareKeyBackend();
    const ref = await b.createVersion('v1');
    await b.destroyVersion(ref);
    assert.ok(ref.every((x) => x === 0));
  });

  it('rejects a ref of the wrong size on encrypt with ERR_CRYPTO_INVALID_KEY', async () => {
    const b = new SoftwareKeyBackend();
    await assert.rejects(b.encrypt(new Uint8Array(16), new Uint8Array(1), new Uint8Array(0)), { code: 'ERR_CRYPTO_INVALID_KEY' });
  });
});
