/**
 * Key pairs for CAs and leaves: generation, PKCS#8 round trips for the barrier, PEM export in the
 * shapes Vault returns, and the WebCrypto algorithm that signs with each key type. All key work
 * goes through node:crypto's WebCrypto; no key material is logged or put in an error.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import type { Algorithm, CryptoKey, CryptoKeyPair, EcdsaParams, x509 } from './x509-lib.ts';

export type KeyType = 'ec' | 'rsa' | 'ed25519';

export interface KeySpec {
  type: KeyType;
  /** RSA modulus bits or EC curve size; 0 for ed25519. */
  bits: number;
}

const subtle = webcrypto.subtle;

const EC_CURVES: Record<number, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const EC_HASH: Record<number, string> = { 256: 'SHA-256', 384: 'SHA-384', 521: 'SHA-512' };
const RSA_BITS = [2048, 3072, 4096];

/** Vault's defaults: key_bits 0 means 2048 for RSA and 256 for EC. Refuses sizes Arca does not sign with. */
export function keySpec(type: string, bits: number): KeySpec {
  if (type === 'ec') {
    const b = bits === 0 ? 256 : bits;
    if (!EC_CURVES[b]) throw keyError('key_bits for key_type ec must be 256, 384 or 521');
    return { type, bits: b };
  }
  if (type === 'rsa') {
    const b = bits === 0 ? 2048 : bits;
    if (!RSA_BITS.includes(b)) throw keyError('key_bits for key_type rsa must be 2048, 3072 or 4096');
    return { type, bits: b };
  }
  if (type === 'ed25519') {
    if (bits !== 0) throw keyError('key_bits must be 0 for key_type ed25519');
    return { type, bits: 0 };
  }
  throw keyError('key_type must be ec, rsa or ed25519');
}

export function keyError(message: string): ArcaError {
  return new ArcaError('ERR_PKI_KEY_TYPE', message);
}

function genParams(s: KeySpec): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | Algorithm {
  if (s.type === 'ec') return { name: 'ECDSA', namedCurve: EC_CURVES[s.bits]! };
  if (s.type === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', modulusLength: s.bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  return { name: 'Ed25519' };
}

/** The signature algorithm a key of this spec signs certificates and CRLs with. */
export function signingAlgorithm(s: KeySpec): Algorithm | EcdsaParams {
  if (s.type === 'ec') return { name: 'ECDSA', hash: EC_HASH[s.bits]! } as EcdsaParams;
  if (s.type === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm;
  return { name: 'Ed25519' };
}

export async function generateKeyPair(s: KeySpec): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(genParams(s) as webcrypto.RsaHashedKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPkcs8(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey('pkcs8', key));
}

/** Imports a stored signing key; not extractable again, so a cached handle cannot leak it. */
export async function importSigningKey(s: KeySpec, pkcs8: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', pkcs8, genParams(s) as webcrypto.RsaHashedImportParams, false, ['sign']);
}

/**
 * Vault's `private_key_format`: `der` (the default) gives the traditional PEM (`EC PRIVATE KEY`,
 * `RSA PRIVATE KEY`), `pkcs8` gives `PRIVATE KEY`. Ed25519 has only PKCS#8.
 */
export function privateKeyPem(s: KeySpec, pkcs8: Uint8Array, format: 'der' | 'pkcs8'): string {
  const ko = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  if (format === 'pkcs8' || s.type === 'ed25519') return ko.export({ format: 'pem', type: 'pkcs8' }).toString();
  return ko.export({ format: 'pem', type: s.type === 'ec' ? 'sec1' : 'pkcs1' }).toString();
}

/** The spec of a public key found in a CSR or certificate (for role checks and imports). */
export function specOfPublicKey(pk: x509.PublicKey): KeySpec | undefined {
  const alg = pk.algorithm as Algorithm & { namedCurve?: string; modulusLength?: number };
  if (alg.name === 'ECDSA' || alg.name === 'ECDH') {
    const bits = Number(Object.entries(EC_CURVES).find(([, c]) => c === alg.namedCurve)?.[0] ?? 0);
    return bits ? { type: 'ec', bits } : undefined;
  }
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS' || alg.name === 'RSA-OAEP') return { type: 'rsa', bits: alg.modulusLength ?? 0 };
  if (alg.name === 'Ed25519' || alg.name === 'EdDSA') return { type: 'ed25519', bits: 0 };
  return undefined;
}
