/**
 * ECDSA P-256 signing keys on a PKCS#11 token, for CA keys that must never leave the HSM (pki
 * mounts with `key_storage=hsm`). The private key is a token object that is sensitive and not
 * extractable; only its public point is read back. Signatures are CKM_ECDSA over a SHA-256 digest
 * computed here, returned as raw r‖s (the WebCrypto form the X.509 code expects).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import { ckrName, type Handle, isHandleInvalid, pkcs11js } from './module.ts';
import type { Pkcs11Session } from './session.ts';

/** DER of the prime256v1 OID (1.2.840.10045.3.1.7), the CKA_EC_PARAMS value for P-256. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** An uncompressed P-256 point is 65 bytes; CKA_EC_POINT wraps it in a DER OCTET STRING (04 41 …). */
const POINT_LEN = 65;

export interface HsmEcKey {
  /** CKA_ID of the private key: what callers persist (inside the barrier) to find it again. */
  readonly id: Uint8Array;
  readonly publicKey: KeyObject;
}

export class HsmEcKeys {
  readonly #s: Pkcs11Session;
  readonly #handles = new Map<string, Handle>();

  constructor(session: Pkcs11Session) {
    this.#s = session;
  }

  /** Generates a token key pair (private: sensitive, non-extractable, sign only). */
  generateP256(label: string, id: Uint8Array): HsmEcKey {
    const p11 = this.#s.p11;
    try {
      const kp = p11.C_GenerateKeyPair(this.#s.handle, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      ], [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      ]);
      this.#handles.set(Buffer.from(id).toString('hex'), kp.privateKey);
      const [point] = p11.C_GetAttributeValue(this.#s.handle, kp.publicKey, [{ type: pkcs11js.CKA_EC_POINT }]);
      return { id: new Uint8Array(id), publicKey: p256FromPoint(point?.value) };
    } catch (err) {
      throw fail(err, `cannot generate an EC key pair on token "${this.#s.tokenLabel}"`);
    }
  }

  /** Whether the private key object is sensitive and not extractable (tests check the token says so). */
  attributes(id: Uint8Array): { sensitive: boolean; extractable: boolean } {
    const h = this.#find(id);
    const [s, e] = this.#s.p11.C_GetAttributeValue(this.#s.handle, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
    return { sensitive: s?.value[0] === 1, extractable: e?.value[0] === 1 };
  }

  /** ECDSA P-256 / SHA-256 signature of `data`, raw r‖s (64 bytes). */
  signSha256(id: Uint8Array, data: Uint8Array): Uint8Array {
    const digest = createHash('sha256').update(data).digest();
    let h = this.#find(id);
    const p11 = this.#s.p11;
    try {
      p11.C_SignInit(this.#s.handle, { mechanism: pkcs11js.CKM_ECDSA }, h);
      return new Uint8Array(p11.C_Sign(this.#s.handle, digest, Buffer.alloc(64)));
    } catch (err) {
      try {
        this.#s.reset();
      } catch {
        // reported by the next call
      }
      if (!isHandleInvalid(err)) throw fail(err, `HSM signing failed on token "${this.#s.tokenLabel}"`);
      // The cached handle went stale (another process re-opened the module): look it up again once.
      this.#handles.delete(Buffer.from(id).toString('hex'));
      h = this.#find(id);
      p11.C_SignInit(this.#s.handle, { mechanism: pkcs11js.CKM_ECDSA }, h);
      return new Uint8Array(p11.C_Sign(this.#s.handle, digest, Buffer.alloc(64)));
    }
  }

  #find(id: Uint8Array): Handle {
    const hex = Buffer.from(id).toString('hex');
    const cached = this.#handles.get(hex);
    if (cached) return cached;
    const p11 = this.#s.p11;
    let found: Handle[];
    try {
      p11.C_FindObjectsInit(this.#s.handle, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      ]);
      try {
        found = p11.C_FindObjects(this.#s.handle, 1);
      } finally {
        p11.C_FindObjectsFinal(this.#s.handle);
      }
    } catch (err) {
      throw fail(err, `cannot search token "${this.#s.tokenLabel}"`);
    }
    const h = found[0];
    if (h === undefined) throw new ArcaError('ERR_HSM_KEY_MISSING', 'the CA signing key no longer exists on the HSM token');
    this.#handles.set(hex, h);
    return h;
  }
}

/** The OCTET STRING header is two fixed bytes for a 65-byte point; the point itself goes to JWK. */
function p256FromPoint(v: Buffer | undefined): KeyObject {
  const pt = v && v.length === POINT_LEN + 2 && v[0] === 0x04 && v[1] === POINT_LEN ? v.subarray(2) : v;
  if (!pt || pt.length !== POINT_LEN || pt[0] !== 0x04) throw new ArcaError('ERR_HSM_UNAVAILABLE', 'the HSM returned an EC public point in an unexpected form');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: pt.subarray(1, 33).toString('base64url'), y: pt.subarray(33).toString('base64url') }, format: 'jwk' });
}

function fail(err: unknown, what: string): ArcaError {
  if (err instanceof ArcaError) return err;
  return new ArcaError('ERR_HSM_UNAVAILABLE', `${what} (${ckrName(err)})`, { cause: err });
}
