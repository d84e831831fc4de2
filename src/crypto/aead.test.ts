/**
 * Known-answer tests for aead.ts (AES-256-GCM, 96-bit nonce, 128-bit tag).
 *
 * Sources (hex typed from the documents, each one checked against node:crypto once by hand):
 * - GCM spec: D. McGrew, J. Viega, "The Galois/Counter Mode of Operation (GCM)", revised 2005,
 *   Appendix B, test cases 13–18 (the 256-bit-key cases; published by NIST CSRC with the proposed
 *   modes). Cases 17 and 18 use 64- and 480-bit IVs, which aead.ts refuses by design (its sealed
 *   layout stores a 12-byte nonce), so for those only the refusal is tested.
 * - NIST CAVP GCMVS, gcmEncryptExtIV256.rsp, [Keylen = 256] [IVlen = 96] [PTlen = 128]
 *   [AADlen = 160] [Taglen = 128], Count = 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { NONCE_LEN, open, seal, TAG_LEN } from './aead.ts';

interface Vector {
  name: string;
  key: string;
  iv: string;
  aad: string;
  pt: string;
  ct: string;
  tag: string;
}

const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const VECTORS: Vector[] = [
  {
    name: 'GCM spec test case 13 (empty plaintext, no AAD)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    aad: '',
    pt: '',
    ct: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'GCM spec test case 14 (one zero block, no AAD)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    aad: '',
    pt: '00000000000000000000000000000000',
    ct: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'GCM spec test case 15 (four blocks, no AAD)',
    key: K15,
    iv: 'cafebabefacedbaddecaf888',
    aad: '',
    pt:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    ct:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'GCM spec test case 16 (60-byte plaintext, 20-byte AAD)',
    key: K15,
    iv: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    pt:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ct:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'NIST CAVP gcmEncryptExtIV256 PTlen=128 AADlen=160 Count=0',
    key: '83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a',
    iv: '0b459724904e010a46901cf3',
    aad: '794a14ccd178c8ebfd1379dc704c5e208f9d8424',
    pt: '33d893a2114ce06fc15d55e454cf90c3',
    ct: 'cc66bee423e3fcd4c0865715e9586696',
    tag: '0fb291bd3dba94a1dfd8b286cfb97ac5',
  },
];

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const flip = (b: Uint8Array, i: number) => {
  const c = new Uint8Array(b);
  c[i]! ^= 0x80;
  return c;
};

describe('aead: AES-256-GCM known answers', () => {
  for (const v of VECTORS) {
    const sealed = v.iv + v.ct + v.tag;
    it(`${v.name}: seal gives nonce ‖ C ‖ T exactly`, () => {
      assert.equal(toHex(seal(hex(v.key), hex(v.pt), hex(v.aad), hex(v.iv))), sealed);
    });
    it(`${v.name}: open gives P back`, () => {
      assert.equal(toHex(open(hex(v.key), hex(sealed), hex(v.aad))), v.pt);
    });
    it(`${v.name}: open refuses a changed nonce, ciphertext, tag or AAD`, () => {
      const s = hex(sealed);
      const refuses = (f: () => unknown) => assert.throws(f, (e) => isArcaError(e, 'ERR_CRYPTO_DECRYPT'));
      refuses(() => open(hex(v.key), flip(s, 0), hex(v.aad)));
      if (v.ct) refuses(() => open(hex(v.key), flip(s, NONCE_LEN), hex(v.aad)));
      refuses(() => open(hex(v.key), flip(s, s.length - 1), hex(v.aad)));
      refuses(() => open(hex(v.key), s, hex(`${v.aad}00`)));
      refuses(() => open(hex(v.key), s.subarray(0, s.length - TAG_LEN), hex(v.aad)));
    });
  }

  it('refuses the non-96-bit IVs of GCM spec test cases 17 (64-bit) and 18 (480-bit)', () => {
    const ivs = [
      'cafebabefacedbad',
      '9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728' +
        'c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b',
    ];
    for (const iv of ivs) {
      assert.throws(() => seal(hex(K15), hex('00'), hex(''), hex(iv)), (e) => isArcaError(e, 'ERR_CRYPTO_INVALID_KEY'));
    }
  });

  it('reports a wrong-key failure with the same code and message as a tampered value', () => {
    const v = VECTORS[3]!;
    const wrongKey = flip(hex(v.key), 0);
    const a = (() => {
      try {
        open(wrongKey, hex(v.iv + v.ct + v.tag), hex(v.aad));
      } catch (e) {
        return e;
      }
    })();
    const b = (() => {
      try {
        open(hex(v.key), flip(hex(v.iv + v.ct + v.tag), 20), hex(v.aad));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(isArcaError(a, 'ERR_CRYPTO_DECRYPT') && isArcaError(b, 'ERR_CRYPTO_DECRYPT'));
    assert.equal((a as Error).message, (b as Error).message);
  });
});
