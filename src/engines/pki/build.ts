/**
 * Certificate, CSR and CRL construction with @peculiar/x509 (no hand-written ASN.1). Serials are
 * random positive integers below 2^159 (Vault's certutil), with a non-zero leading byte so the
 * hex form has a stable length.
 */
import { randomBytes } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import { type KeySpec, signingAlgorithm, specOfPublicKey } from './keys.ts';
import type { UrlsConfig } from './store.ts';
import { type CryptoKey, type CryptoKeyPair, OID_SKI, x509 } from './x509-lib.ts';

export interface Subject {
  commonName: string;
  organization: string[];
  ou: string[];
}

export interface SanSet {
  dns: string[];
  emails: string[];
  ips: string[];
  uris: string[];
}

export function randomSerial(): string {
  const b = randomBytes(19);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** A structured name: no string DN parsing, so a comma or `=` in a CN stays inside the CN. */
export function subjectName(s: Subject): x509.JsonName {
  const name: x509.JsonName = [];
  if (s.organization.length) name.push({ O: s.organization });
  if (s.ou.length) name.push({ OU: s.ou });
  if (s.commonName) name.push({ CN: [s.commonName] });
  return name;
}

function sanExtension(s: SanSet): x509.Extension | undefined {
  const names: x509.JsonGeneralNames = [
    ...s.dns.map((value) => ({ type: 'dns' as const, value })),
    ...s.emails.map((value) => ({ type: 'email' as const, value })),
    ...s.ips.map((value) => ({ type: 'ip' as const, value })),
    ...s.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  return names.length ? new x509.SubjectAlternativeNameExtension(names, false) : undefined;
}

const KU: Record<string, x509.KeyUsageFlags> = {
  DigitalSignature: x509.KeyUsageFlags.digitalSignature,
  ContentCommitment: x509.KeyUsageFlags.nonRepudiation,
  KeyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  DataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  KeyAgreement: x509.KeyUsageFlags.keyAgreement,
  CertSign: x509.KeyUsageFlags.keyCertSign,
  CRLSign: x509.KeyUsageFlags.cRLSign,
  EncipherOnly: x509.KeyUsageFlags.encipherOnly,
  DecipherOnly: x509.KeyUsageFlags.decipherOnly,
};
const EKU: Record<string, string> = {
  Any: '2.5.29.37.0',
  ServerAuth: x509.ExtendedKeyUsage.serverAuth,
  ClientAuth: x509.ExtendedKeyUsage.clientAuth,
  CodeSigning: x509.ExtendedKeyUsage.codeSigning,
  EmailProtection: x509.ExtendedKeyUsage.emailProtection,
  TimeStamping: x509.ExtendedKeyUsage.timeStamping,
  OCSPSigning: x509.ExtendedKeyUsage.ocspSigning,
};

function urlExtensions(urls: UrlsConfig | undefined): x509.Extension[] {
  const out: x509.Extension[] = [];
  if (!urls) return out;
  if (urls.crl_distribution_points.length) out.push(new x509.CRLDistributionPointsExtension(urls.crl_distribution_points));
  if (urls.issuing_certificates.length || urls.ocsp_servers.length) {
    out.push(new x509.AuthorityInfoAccessExtension({ caIssuers: urls.issuing_certificates.map((value) => new x509.GeneralName('url', value)), ocsp: urls.ocsp_servers.map((value) => new x509.GeneralName('url', value)) }));
  }
  return out;
}

export interface Issuer {
  cert: x509.X509Certificate;
  spec: KeySpec;
  signingKey: CryptoKey;
}

export interface LeafParams {
  subject: Subject;
  sans: SanSet;
  publicKey: x509.PublicKeyType;
  notBefore: Date;
  notAfter: Date;
  keyUsage: string[];
  extKeyUsage: string[];
  urls?: UrlsConfig | undefined;
}

export async function signLeaf(issuer: Issuer, p: LeafParams): Promise<x509.X509Certificate> {
  const exts: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  const ku = p.keyUsage.reduce((a, u) => a | (KU[u] ?? 0), 0);
  if (ku) exts.push(new x509.KeyUsagesExtension(ku, true));
  if (p.extKeyUsage.length) exts.push(new x509.ExtendedKeyUsageExtension(p.extKeyUsage.map((u) => EKU[u] ?? u), false));
  exts.push(await x509.SubjectKeyIdentifierExtension.create(p.publicKey));
  exts.push(await authorityKeyId(issuer.cert));
  const san = sanExtension(p.sans);
  if (san) exts.push(san);
  exts.push(...urlExtensions(p.urls));
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(p.subject),
    issuer: issuer.cert.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: p.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: signingAlgorithm(issuer.spec),
    extensions: exts,
  });
}

/** AKI from the issuer's SKI when it has one (it always does when Arca made it). */
async function authorityKeyId(issuer: x509.X509Certificate): Promise<x509.Extension> {
  const ski = issuer.getExtension<x509.SubjectKeyIdentifierExtension>(OID_SKI);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
}

export interface CaParams {
  subject: Subject;
  sans: SanSet;
  notBefore: Date;
  notAfter: Date;
  maxPathLength: number;
  urls?: UrlsConfig | undefined;
}

function caExtensions(p: CaParams): x509.Extension[] {
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, p.maxPathLength >= 0 ? p.maxPathLength : undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const san = sanExtension(p.sans);
  if (san) exts.push(san);
  return exts;
}

export async function selfSignedCa(spec: KeySpec, keys: CryptoKeyPair, p: CaParams): Promise<x509.X509Certificate> {
  const name = subjectName(p.subject);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signingAlgorithm(spec),
    extensions: [...caExtensions(p), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey)],
  });
}

/** `root/sign-intermediate`: a CA certificate for a CSR's key, issued by this mount's CA. */
export async function signIntermediate(issuer: Issuer, csr: x509.Pkcs10CertificateRequest, p: CaParams): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(p.subject),
    issuer: issuer.cert.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: csr.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: signingAlgorithm(issuer.spec),
    extensions: [...caExtensions(p), await x509.SubjectKeyIdentifierExtension.create(csr.publicKey), await authorityKeyId(issuer.cert), ...urlExtensions(p.urls)],
  });
}

export async function makeCsr(spec: KeySpec, keys: CryptoKeyPair, subject: Subject, sans: SanSet): Promise<x509.Pkcs10CertificateRequest> {
  const san = sanExtension(sans);
  return x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(subject),
    keys,
    signingAlgorithm: signingAlgorithm(spec),
    extensions: san ? [san] : [],
  });
}

export function csrError(message: string, field = 'csr'): ArcaError {
  return new ArcaError('ERR_PKI_CSR_INVALID', message, { details: { field } });
}

/** Parses and self-verifies a PEM CSR; the error never quotes it. */
export async function parseCsr(pem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw csrError('csr must be a PEM-encoded PKCS#10 certificate request');
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw csrError('the csr signature does not verify: sign the request with the key it carries');
  if (!specOfPublicKey(csr.publicKey)) throw csrError('the csr key algorithm is not supported: use ec, rsa or ed25519');
  return csr;
}

export function parseCertificate(pem: string, field = 'certificate'): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw csrError(`${field} must be a PEM-encoded X.509 certificate`, field);
  }
}

/** Splits a PEM bundle into its CERTIFICATE blocks. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export interface CrlEntry {
  serialHex: string;
  revokedAt: number;
}

export async function buildCrl(issuer: Issuer, entries: CrlEntry[], now: Date, nextUpdate: Date): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate: now,
    nextUpdate,
    signingAlgorithm: signingAlgorithm(issuer.spec),
    signingKey: issuer.signingKey,
    extensions: [await authorityKeyId(issuer.cert)],
    entries: entries.map((e) => ({ serialNumber: e.serialHex, revocationDate: new Date(e.revokedAt * 1000) })),
  });
}

export function toPem(der: ArrayBuffer | Uint8Array, label: 'CERTIFICATE' | 'X509 CRL' | 'CERTIFICATE REQUEST'): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----`;
}

/** Serial from @peculiar/x509 (hex, possibly with a leading 00 for the sign bit), normalised. */
export function certSerialHex(cert: x509.X509Certificate): string {
  return cert.serialNumber.toLowerCase().replace(/^(00)+(?=[0-9a-f])/, '');
}
