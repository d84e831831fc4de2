import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { formatCiphertext, parseCiphertext } from './ciphertext.ts';
import { decodeB64 } from './encoding.ts';
import { contextAad, deriveKey } from './key-ops.ts';

describe('transit ciphertext format', () => {
  it('round-trips version and bytes through vault:v<N>:<base64>', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 - 1 }), fc.uint8Array({ maxLength: 64 }), (v, raw) => {
        const s = formatCiphertext(v, raw);
        assert.ok(s.startsWith(`vault:v${v}:`));
        const p = parseCiphertext(s);
        assert.equal(p.version, v);
        assert.deepEqual(p.raw, raw);
      }),
    );
  });

  it('reads a v0 ciphertext as version 1, as Vault does', () => {
    assert.equal(parseCiphertext('vault:v0:AAAA').version, 1);
  });

  it('refuses each malformed field with ERR_TRANSIT_CIPHERTEXT_MALFORMED', () => {
    for (const bad of ['', 'vault', 'Vault:v1:AAAA', 'vault:v1', 'vault:1:AAAA', 'vault:v:AAAA', 'vault:v-1:AAAA', 'vault:v1:AA=A', 'vault:v1:AAA', 'vault:v1:A A=']) {
      assert.throws(() => parseCiphertext(bad), (e: unknown) => isArcaError(e, 'ERR_TRANSIT_CIPHERTEXT_MALFORMED'), bad);
    }
  });

  it('never crashes on arbitrary input: it parses or throws the malformed code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `vault:v1:${s}`), fc.string().map((s) => `vault:${s}`)), (s) => {
        try {
          parseCiphertext(s);
        } catch (e) {
          assert.ok(isArcaError(e, 'ERR_TRANSIT_CIPHERTEXT_MALFORMED'));
        }
      }),
    );
  });
});

describe('strict base64', () => {
  it('accepts exactly what Buffer would encode', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      const r = decodeB64(Buffer.from(b).toString('base64'));
      assert.ok(r.ok);
      assert.deepEqual(r.ok && r.bytes, b);
    }));
  });

  it("reports the first bad byte as Go does", () => {
    assert.deepEqual(decodeB64('###'), { ok: false, error: 'illegal base64 data at input byte 0' });
    assert.deepEqual(decodeB64('aGVsbG8'), { ok: false, error: 'illegal base64 data at input byte 4' });
    assert.equal(decodeB64('aGVs bG8=').ok, false);
    assert.equal(decodeB64('aGVsbA==\n').ok, true);
  });
});

describe('derived keys', () => {
  it('derives per-context keys with HKDF-SHA256 as Vault documents (reference illustration)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const d = deriveKey(key, new TextEncoder().encode('tenant-a'));
    assert.equal(Buffer.from(d).toString('hex'), '9a0da5a36d19744cf4b33e74cfab83ea2a65b62ee696fd99af5388b129c01f20');
  });

  it('binds the context into the AAD without ambiguity between context and associated data', () => {
    const a = contextAad(new TextEncoder().encode('ab'), new TextEncoder().encode('c'));
    const b = contextAad(new TextEncoder().encode('a'), new TextEncoder().encode('bc'));
    assert.notDeepEqual(a, b);
  });
});
