/**
 * The KeyBackend conformance suite. Every implementation runs it against a real instance:
 *   exerciseKeyBackend('software', async () => new SoftwareKeyBackend(), { type: 'aes256-gcm96', destroyedCode: 'ERR_CRYPTO_DECRYPT' })
 * `open` is called once per test; the suite closes what it opened.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../errors/index.ts';
import type { KeyBackend, KeyType } from './backend.ts';

export interface KeyBackendExpectations {
  type: KeyType;
  /**
   * What decrypting with a destroyed version's ref fails with: software refs are wiped in place,
   * so they no longer authenticate (ERR_CRYPTO_DECRYPT); an HSM reports the object gone
   * (ERR_HSM_KEY_MISSING).
   */
  destroyedCode: ErrorCode;
}

const enc = (s: string) => new TextEncoder().encode(s);
const NONCE = 12;
const TAG = 16;

export function exerciseKeyBackend(name: string, open: () => Promise<KeyBackend>, expect: KeyBackendExpectations): void {
  describe(`key backend conformance: ${name}`, () => {
    async function withBackend(fn: (b: KeyBackend) => Promise<void>): Promise<void> {
      const b = await open();
      try {
        await fn(b);
      } finally {
        await b.close();
      }
    }

    it('reports its key type', () =>
      withBackend(async (b) => {
        assert.equal(b.type, expect.type);
      }));

    it('round-trips plaintexts with the nonce‖ciphertext‖tag layout', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        for (const size of [1, 15, 16, 17, 1000]) {
          const pt = randomBytes(size);
          const ct = await b.encrypt(ref, pt, enc('aad'));
          assert.equal(ct.length, NONCE + size + TAG);
          assert.deepEqual(await b.decrypt(ref, ct, enc('aad')), new Uint8Array(pt));
        }
      }));

    it('uses a fresh nonce for every encryption', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const nonces = new Set<string>();
        for (let i = 0; i < 50; i++) nonces.add(Buffer.from((await b.encrypt(ref, enc('same'), enc('a'))).subarray(0, NONCE)).toString('hex'));
        assert.equal(nonces.size, 50);
      }));

    it('round-trips an empty plaintext', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const ct = await b.encrypt(ref, new Uint8Array(0), enc('aad'));
        assert.equal(ct.length, NONCE + TAG);
        assert.deepEqual(await b.decrypt(ref, ct, enc('aad')), new Uint8Array(0));
      }));

    it('round-trips a 1 MiB plaintext', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const pt = new Uint8Array(randomBytes(1024 * 1024));
        const ct = await b.encrypt(ref, pt, new Uint8Array(0));
        assert.deepEqual(await b.decrypt(ref, ct, new Uint8Array(0)), pt);
      }));

    it('binds the AAD: another or a missing AAD fails with ERR_CRYPTO_DECRYPT', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const ct = await b.encrypt(ref, enc('secret'), enc('ctx/a'));
        await assert.rejects(b.decrypt(ref, ct, enc('ctx/b')), { code: 'ERR_CRYPTO_DECRYPT' });
        await assert.rejects(b.decrypt(ref, ct, new Uint8Array(0)), { code: 'ERR_CRYPTO_DECRYPT' });
      }));

    it('rejects any flipped bit in nonce, body or tag, and truncation, with ERR_CRYPTO_DECRYPT', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const ct = await b.encrypt(ref, enc('secret value'), enc('a'));
        for (const i of [0, NONCE - 1, NONCE, NONCE + 5, ct.length - TAG, ct.length - 1]) {
          const bad = new Uint8Array(ct);
          bad[i]! ^= 0x01;
          await assert.rejects(b.decrypt(ref, bad, enc('a')), { code: 'ERR_CRYPTO_DECRYPT' }, `byte ${i}`);
        }
        await assert.rejects(b.decrypt(ref, ct.subarray(0, ct.length - 1), enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
        await assert.rejects(b.decrypt(ref, ct.subarray(0, NONCE + TAG - 1), enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
        await assert.rejects(b.decrypt(ref, new Uint8Array(0), enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
        // the original still decrypts: failures leave the backend usable
        assert.deepEqual(await b.decrypt(ref, ct, enc('a')), enc('secret value'));
      }));

    it('gives each version its own ref and key: another version cannot decrypt', () =>
      withBackend(async (b) => {
        const r1 = await b.createVersion(randomUUID());
        const r2 = await b.createVersion(randomUUID());
        assert.notDeepEqual(r1, r2);
        const ct = await b.encrypt(r1, enc('v1 data'), enc('a'));
        await assert.rejects(b.decrypt(r2, ct, enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
        assert.deepEqual(await b.decrypt(r1, ct, enc('a')), enc('v1 data'));
      }));

    it('rejects a malformed ref on decrypt with ERR_CRYPTO_DECRYPT', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const ct = await b.encrypt(ref, enc('x'), enc('a'));
        await assert.rejects(b.decrypt(new Uint8Array(0), ct, enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
        await assert.rejects(b.decrypt(new Uint8Array(ref.length + 1), ct, enc('a')), { code: 'ERR_CRYPTO_DECRYPT' });
      }));

    it('makes a destroyed version unusable, and only that version', () =>
      withBackend(async (b) => {
        const doomed = await b.createVersion(randomUUID());
        const kept = await b.createVersion(randomUUID());
        const ct = await b.encrypt(doomed, enc('old'), enc('a'));
        const ctKept = await b.encrypt(kept, enc('new'), enc('a'));
        await b.destroyVersion(doomed);
        await assert.rejects(b.decrypt(doomed, ct, enc('a')), { code: expect.destroyedCode });
        assert.deepEqual(await b.decrypt(kept, ctKept, enc('a')), enc('new'));
      }));

    it('handles many concurrent operations', () =>
      withBackend(async (b) => {
        const ref = await b.createVersion(randomUUID());
        const pts = Array.from({ length: 100 }, (_, i) => enc(`message ${i}`));
        const cts = await Promise.all(pts.map((p, i) => b.encrypt(ref, p, enc(`aad ${i}`))));
        const back = await Promise.all(cts.map((c, i) => b.decrypt(ref, c, enc(`aad ${i}`))));
        assert.deepEqual(back, pts);
      }));
  });
}
