/**
 * The one entry to @peculiar/x509: its dependency injection (tsyringe) needs the Reflect metadata
 * polyfill loaded first, and its crypto provider must be node's WebCrypto. Every pki module
 * imports X.509 from here so both are set before first use.
 *
 * The provider is node's WebCrypto with one addition: `sign` with a key made by hsmSigningKey()
 * goes to the HSM (PKCS#11) instead, so certificates, CSRs and CRLs are built by the same code
 * whether the CA key is in the barrier or on a token.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** WebCrypto types from node:crypto (the project compiles without the DOM lib). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type Algorithm = webcrypto.Algorithm;
export type EcdsaParams = webcrypto.EcdsaParams;

/** Extension OIDs, looked up by string: the class overload needs DOM types the project lacks. */
export const OID_SAN = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_SKI = '2.5.29.14';

type RawSigner = (data: Uint8Array) => Uint8Array;
const hsmSigners = new WeakMap<object, RawSigner>();

const subtle = webcrypto.subtle;
const provider = {
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
  subtle: new Proxy(subtle, {
    get(target, prop) {
      if (prop === 'sign') {
        return async (alg: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams, key: CryptoKey, data: webcrypto.BufferSource) => {
          const hsm = hsmSigners.get(key);
          if (!hsm) return target.sign(alg, key, data);
          const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          return new Uint8Array(hsm(bytes)).buffer;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }),
};
x509.cryptoProvider.set(provider as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A stand-in private key (ECDSA P-256) whose signatures come from `sign` (raw r‖s over SHA-256). */
export function hsmSigningKey(sign: RawSigner): CryptoKey {
  const key = Object.freeze({ type: 'private', extractable: false, algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['sign'] });
  hsmSigners.set(key, sign);
  return key as unknown as CryptoKey;
}

export { x509 };
