/**
 * What a pki mount keeps in its barrier-encrypted storage view. One CA per mount; its private key
 * is stored (PKCS#8, base64) only inside the barrier, so storage sees ciphertext only.
 *
 *   ca/record        the CA: key spec, PKCS#8 key, certificate PEM, parents' PEMs
 *   ca/pending       an intermediate key + CSR waiting for `intermediate/set-signed`
 *   config/urls      AIA / CRL distribution URLs embedded at issuance
 *   role/<name>      roles
 *   certs/<serial>   issued certificates (hyphenated serial, Vault's storage form)
 *   revoked/<serial> the CRL's entries; dropped once the certificate has expired (bounded CRL)
 *   crl/cache        the last signed CRL (DER, base64) and when it was built
 */
import { ArcaError } from '../../errors/index.ts';
import type { Storage } from '../../storage/index.ts';
import { importSigningKey, type KeySpec } from './keys.ts';
import { type CryptoKey, hsmSigningKey, x509 } from './x509-lib.ts';
import type { HsmEcKeys } from '../../keys/index.ts';

export const CA_KEY = 'ca/record';
export const PENDING_KEY = 'ca/pending';
export const URLS_KEY = 'config/urls';
export const ROLE_PREFIX = 'role/';
export const CERT_PREFIX = 'certs/';
export const REVOKED_PREFIX = 'revoked/';
export const CRL_KEY = 'crl/cache';

export interface CaRecord {
  spec: KeySpec;
  /** PKCS#8 DER, base64; empty when the key lives in the HSM. */
  key: string;
  /** CKA_ID (hex) of the non-extractable HSM key, for mounts with key_storage=hsm. */
  hsmId?: string;
  certPem: string;
  /** The issuers above this CA (intermediate → root), PEM; empty for a root. */
  parents: string[];
}

export interface PendingRecord {
  spec: KeySpec;
  key: string;
  hsmId?: string;
  csrPem: string;
}

export interface CertRecord {
  pem: string;
  /** Unix seconds. */
  notAfter: number;
  revokedAt?: number;
}

export interface RevokedRecord {
  revokedAt: number;
  notAfter: number;
}

export interface UrlsConfig {
  issuing_certificates: string[];
  crl_distribution_points: string[];
  ocsp_servers: string[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function getJson<T>(s: Storage, key: string): Promise<T | undefined> {
  const b = await s.get(key);
  return b === undefined ? undefined : (JSON.parse(dec.decode(b)) as T);
}

export async function putJson(s: Storage, key: string, v: unknown): Promise<void> {
  await s.put(key, enc.encode(JSON.stringify(v)));
}

export function encodeJson(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

/**
 * The CA and its imported signing key. The import is cached by certificate: the record is re-read
 * on every use (another replica may have set it), the key import only when it changed.
 */
export class CaCache {
  #cached: { certPem: string; key: Promise<CryptoKey>; cert: x509.X509Certificate } | undefined;
  readonly #hsm: HsmEcKeys | undefined;

  constructor(hsm?: HsmEcKeys) {
    this.#hsm = hsm;
  }

  async load(s: Storage): Promise<{ ca: CaRecord; signingKey: CryptoKey; cert: x509.X509Certificate }> {
    const ca = await getJson<CaRecord>(s, CA_KEY);
    if (!ca) throw new ArcaError('ERR_PKI_CA_MISSING', 'this mount has no CA yet: call root/generate or intermediate/set-signed first');
    if (this.#cached?.certPem !== ca.certPem) {
      const key = ca.hsmId ? Promise.resolve(hsmKey(this.#hsm, ca.hsmId)) : importSigningKey(ca.spec, Buffer.from(ca.key, 'base64'));
      key.catch(() => undefined);
      this.#cached = { certPem: ca.certPem, key, cert: new x509.X509Certificate(ca.certPem) };
    }
    return { ca, signingKey: await this.#cached.key, cert: this.#cached.cert };
  }
}

/** The signing key of an HSM-held CA; refused when the server has no HSM (anymore). */
export function hsmKey(hsm: HsmEcKeys | undefined, idHex: string): CryptoKey {
  if (!hsm) throw new ArcaError('ERR_HSM_UNAVAILABLE', 'this CA key is in an HSM but the server has no keys.pkcs11 configured');
  const id = Buffer.from(idHex, 'hex');
  return hsmSigningKey((data) => hsm.signSha256(id, data));
}

/** Vault's serial forms: `aa:bb:…` in answers and lists, `aa-bb-…` in storage; input takes either. */
export function serialColons(hex: string): string {
  return (hex.length % 2 ? `0${hex}` : hex).toLowerCase().match(/../g)!.join(':');
}

export function serialStorage(serial: string): string | undefined {
  const s = serial.trim().toLowerCase().replace(/[-:]/g, '');
  if (!/^[0-9a-f]{1,80}$/.test(s)) return undefined;
  return (s.length % 2 ? `0${s}` : s).match(/../g)!.join('-');
}

export function serialHex(storageForm: string): string {
  return storageForm.replace(/-/g, '');
}
