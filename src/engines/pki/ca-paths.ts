/**
 * The mount's CA: `root/generate/:type`, `intermediate/generate/:type`, `intermediate/set-signed`,
 * `root/sign-intermediate`, `config/urls`, and the CA fetch endpoints (`ca`, `ca/pem`, `ca_chain`,
 * `cert/ca`, `cert/ca_chain`). One CA per mount: a second root/generate or set-signed is refused
 * (rotate by mounting a new path and moving roles there; see docs/pki.md).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsResponse, outOfRange, parseFields, vIntIn, vStringList, withIgnoredFields } from '../fields.ts';
import type { EngineResponse } from '../types.ts';
import { certSerialHex, csrError, makeCsr, parseCertificate, parseCsr, pemBlocks, selfSignedCa, signIntermediate, toPem } from './build.ts';
import { exportPkcs8, generateKeyPair, keyError, type KeySpec, keySpec, privateKeyPem } from './keys.ts';
import { isHostname } from './names.ts';
import { loadUrls, type PkiState, subjectAndSans, subjectFields, ttlField } from './state.ts';
import { CA_KEY, type CaRecord, encodeJson, getJson, hsmKey, PENDING_KEY, type PendingRecord, putJson, serialColons, URLS_KEY, type UrlsConfig } from './store.ts';
import { type CryptoKeyPair, OID_BASIC_CONSTRAINTS, x509 } from './x509-lib.ts';

const TEN_YEARS = 87600 * 3600;
/** Vault's not_before_duration default: backdating absorbs clock skew between nodes. */
const BACKDATE_MS = 30_000;

const keyFields = {
  key_type: z.enum(['ec', 'rsa', 'ed25519'], { error: 'key_type must be ec, rsa or ed25519' }).optional(),
  key_bits: vIntIn(0, 8192).optional(),
  private_key_format: z.enum(['der', 'pkcs8', ''], { error: 'private_key_format must be der or pkcs8' }).optional(),
  format: z.enum(['pem', 'der', 'pem_bundle'], { error: 'the "format" field must be "pem", "der", or "pem_bundle"' }).optional(),
};

const rootSchema = z.object({ ...subjectFields, ...keyFields, ttl: ttlField.optional(), max_path_length: vIntIn(-1, 16).optional() });
const interSchema = z.object({ ...subjectFields, ...keyFields });
const signInterSchema = z.object({ ...subjectFields, csr: z.string().max(65536), ttl: ttlField.optional(), max_path_length: vIntIn(-1, 16).optional(), use_csr_values: z.unknown().optional(), format: keyFields.format });
const setSignedSchema = z.object({ certificate: z.string().max(262144) });
const urlsSchema = z.object({ issuing_certificates: vStringList.optional(), crl_distribution_points: vStringList.optional(), ocsp_servers: vStringList.optional() });

function exportType(type: string): boolean {
  if (type === 'exported') return true;
  if (type === 'internal') return false;
  throw new ArcaError('ERR_INVALID_REQUEST', 'the type path parameter must be "internal" or "exported"');
}

function requireCn(cn: string | undefined): string {
  if (!cn) throw new ArcaError('ERR_INVALID_REQUEST', 'the common_name field is required', { details: { field: 'common_name' } });
  return cn;
}

interface NewCaKey {
  keys: CryptoKeyPair;
  /** What the CA record stores: PKCS#8 (barrier) or the HSM object's id. */
  stored: { key: string; hsmId?: string };
  pkcs8?: Uint8Array;
}

/** A new CA key in the barrier, or non-extractable on the HSM (mount option key_storage=hsm). */
async function newCaKey(s: PkiState, spec: KeySpec, exported: boolean): Promise<NewCaKey> {
  if (s.keyStorage === 'hsm') {
    if (exported) throw new ArcaError('ERR_PKI_KEY_NOT_EXPORTABLE', 'this mount keeps CA keys in the HSM, where they cannot be exported: use the internal type');
    if (spec.type !== 'ec' || spec.bits !== 256) throw keyError('HSM-held CA keys are ec with key_bits 256');
    const id = randomBytes(16);
    const k = s.hsm!.generateP256(`arca-pki-ca-${id.toString('hex')}`, id);
    const publicKey = await webcrypto.subtle.importKey('spki', k.publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    return { keys: { publicKey, privateKey: hsmKey(s.hsm, id.toString('hex')) }, stored: { key: '', hsmId: id.toString('hex') } };
  }
  const keys = await generateKeyPair(spec);
  const pkcs8 = await exportPkcs8(keys.privateKey);
  return { keys, stored: { key: Buffer.from(pkcs8).toString('base64') }, pkcs8 };
}

export function certOut(pem: string, format: string | undefined): string {
  if (format === 'der') return Buffer.from(new x509.X509Certificate(pem).rawData).toString('base64');
  return pem;
}

export async function generateRoot(s: PkiState, type: string, data: Record<string, unknown>): Promise<EngineResponse> {
  const exported = exportType(type);
  const b = parseFields(rootSchema, data);
  const cn = requireCn(b.common_name);
  if (await getJson(s.storage, CA_KEY)) throw new ArcaError('ERR_PKI_CA_EXISTS', 'this mount already has a CA: mount pki at another path for a new one');
  const spec = keySpec(b.key_type ?? (s.keyStorage === 'hsm' ? 'ec' : 'rsa'), b.key_bits ?? 0);
  const { keys, stored, pkcs8 } = await newCaKey(s, spec, exported);
  const now = s.now();
  const { subject, sans } = subjectAndSans({ ...b, common_name: cn }, isHostname);
  const cert = await selfSignedCa(spec, keys, { subject, sans, notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + (b.ttl || TEN_YEARS) * 1000), maxPathLength: b.max_path_length ?? -1 });
  const certPem = cert.toString('pem');
  const rec: CaRecord = { spec, ...stored, certPem, parents: [] };
  // Put-if-absent: two concurrent generations cannot both win.
  if (!(await s.storage.putIf(CA_KEY, encodeJson(rec), undefined))) throw new ArcaError('ERR_PKI_CA_EXISTS', 'this mount already has a CA: mount pki at another path for a new one');
  s.log.info({ serial: serialColons(certSerialHex(cert)) }, 'pki root generated');
  const out: Record<string, unknown> = {
    certificate: certOut(certPem, b.format),
    issuing_ca: certOut(certPem, b.format),
    serial_number: serialColons(certSerialHex(cert)),
    expiration: Math.floor(cert.notAfter.getTime() / 1000),
  };
  if (exported && pkcs8) Object.assign(out, { private_key: privateKeyPem(spec, pkcs8, b.private_key_format === 'pkcs8' ? 'pkcs8' : 'der'), private_key_type: spec.type });
  const urls = await loadUrls(s);
  return withIgnoredFields<EngineResponse>({ data: out, ...(urls ? {} : { warnings: ["This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls with this information."] }) }, rootSchema, data);
}

export async function generateIntermediate(s: PkiState, type: string, data: Record<string, unknown>): Promise<EngineResponse> {
  const exported = exportType(type);
  const b = parseFields(interSchema, data);
  const cn = requireCn(b.common_name);
  if (await getJson(s.storage, CA_KEY)) throw new ArcaError('ERR_PKI_CA_EXISTS', 'this mount already has a CA: mount pki at another path for a new one');
  const spec = keySpec(b.key_type ?? (s.keyStorage === 'hsm' ? 'ec' : 'rsa'), b.key_bits ?? 0);
  const { keys, stored, pkcs8 } = await newCaKey(s, spec, exported);
  const { subject, sans } = subjectAndSans({ ...b, common_name: cn }, isHostname);
  const csr = await makeCsr(spec, keys, subject, sans);
  const csrPem = csr.toString('pem');
  await putJson(s.storage, PENDING_KEY, { spec, ...stored, csrPem } satisfies PendingRecord);
  const out: Record<string, unknown> = { csr: b.format === 'der' ? Buffer.from(csr.rawData).toString('base64') : csrPem };
  if (exported && pkcs8) Object.assign(out, { private_key: privateKeyPem(spec, pkcs8, b.private_key_format === 'pkcs8' ? 'pkcs8' : 'der'), private_key_type: spec.type });
  return withIgnoredFields<EngineResponse>({ data: out }, interSchema, data);
}

export async function setSigned(s: PkiState, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(setSignedSchema, data);
  const blocks = pemBlocks(b.certificate);
  if (blocks.length === 0) throw csrError('certificate must hold the signed intermediate (PEM), optionally followed by its issuers', 'certificate');
  const certs = blocks.map((p) => parseCertificate(p));
  const leaf = certs[0]!;
  if (!leaf.getExtension<x509.BasicConstraintsExtension>(OID_BASIC_CONSTRAINTS)?.ca) throw csrError('the certificate is not a CA certificate (basic constraints CA:TRUE missing)', 'certificate');
  const pending = await getJson<PendingRecord>(s.storage, PENDING_KEY);
  if (!pending) throw new ArcaError('ERR_PKI_CA_MISSING', 'no pending intermediate: call intermediate/generate first');
  const csr = new x509.Pkcs10CertificateRequest(pending.csrPem);
  const same = Buffer.compare(Buffer.from(csr.publicKey.rawData), Buffer.from(leaf.publicKey.rawData)) === 0;
  if (!same) throw csrError('the certificate does not carry the key of the pending intermediate request', 'certificate');
  const rec: CaRecord = { spec: pending.spec, key: pending.key, ...(pending.hsmId ? { hsmId: pending.hsmId } : {}), certPem: leaf.toString('pem'), parents: certs.slice(1).map((c) => c.toString('pem')) };
  const ok = await s.storage.commit({ puts: [[CA_KEY, encodeJson(rec)]], deletes: [PENDING_KEY], expect: [[CA_KEY, undefined]] });
  if (!ok) throw new ArcaError('ERR_PKI_CA_EXISTS', 'this mount already has a CA: mount pki at another path for a new one');
  const id = serialColons(certSerialHex(leaf));
  return withIgnoredFields<EngineResponse>({ data: { imported_issuers: [id], imported_keys: [], mapping: { [id]: '' } } }, setSignedSchema, data);
}

export async function signIntermediatePath(s: PkiState, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(signInterSchema, data);
  const { ca, signingKey } = await s.ca.load(s.storage);
  const csr = await parseCsr(b.csr);
  const cn = b.common_name || csr.subjectName.getField('CN')[0] || '';
  requireCn(cn);
  const issuerCert = new x509.X509Certificate(ca.certPem);
  const now = s.now();
  const notAfter = now + (b.ttl || 365 * 86400) * 1000;
  const { subject, sans } = subjectAndSans({ ...b, common_name: cn }, isHostname);
  const cert = await signIntermediate({ cert: issuerCert, spec: ca.spec, signingKey }, csr, {
    subject, sans, notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(notAfter), maxPathLength: b.max_path_length ?? -1, urls: await loadUrls(s),
  });
  const pem = cert.toString('pem');
  const out = {
    certificate: certOut(pem, b.format),
    issuing_ca: certOut(ca.certPem, b.format),
    ca_chain: [ca.certPem, ...ca.parents].map((p) => certOut(p, b.format)),
    serial_number: serialColons(certSerialHex(cert)),
    expiration: Math.floor(cert.notAfter.getTime() / 1000),
  };
  return withIgnoredFields<EngineResponse>({ data: out }, signInterSchema, data);
}

export async function writeUrls(s: PkiState, data: Record<string, unknown>): Promise<EngineResponse | undefined> {
  const b = parseFields(urlsSchema, data);
  const cur = (await loadUrls(s)) ?? { issuing_certificates: [], crl_distribution_points: [], ocsp_servers: [] };
  const next: UrlsConfig = { ...cur };
  for (const k of ['issuing_certificates', 'crl_distribution_points', 'ocsp_servers'] as const) {
    const v = b[k];
    if (v === undefined) continue;
    for (const u of v) {
      try {
        new URL(u);
      } catch {
        throw outOfRange(k, 'entries must be absolute URLs');
      }
    }
    next[k] = v;
  }
  await putJson(s.storage, URLS_KEY, next);
  return ignoredFieldsResponse(urlsSchema, data);
}

export async function readUrls(s: PkiState): Promise<EngineResponse> {
  return { data: { ...((await loadUrls(s)) ?? { issuing_certificates: [], crl_distribution_points: [], ocsp_servers: [] }) } };
}

/** `ca` (DER), `ca/pem`, `ca_chain` (PEM): raw bodies; 204 when there is no CA yet (Vault). */
export async function fetchCa(s: PkiState, form: 'der' | 'pem' | 'chain'): Promise<EngineResponse | undefined> {
  const ca = await getJson<CaRecord>(s.storage, CA_KEY);
  if (!ca) return undefined;
  if (form === 'der') return { status: 200, raw: { contentType: 'application/pkix-cert', body: new Uint8Array(new x509.X509Certificate(ca.certPem).rawData) } };
  const body = form === 'pem' ? ca.certPem : [ca.certPem, ...ca.parents].join('\n');
  return { status: 200, raw: { contentType: form === 'pem' ? 'application/pem-certificate-chain' : 'application/pkix-cert', body: `${body}\n` } };
}

/** `cert/ca` and `cert/ca_chain`: the JSON forms. */
export async function readCaJson(s: PkiState, chain: boolean): Promise<EngineResponse> {
  const ca = await getJson<CaRecord>(s.storage, CA_KEY);
  if (!ca) throw new ArcaError('ERR_NOT_FOUND', '');
  const pems = [ca.certPem, ...ca.parents];
  return { data: { certificate: chain ? pems.join('\n') : ca.certPem, ca_chain: pems, revocation_time: 0, revocation_time_rfc3339: '' } };
}

export { toPem };
