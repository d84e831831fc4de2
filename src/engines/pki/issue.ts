/**
 * `issue/:role` (Arca generates the key), `sign/:role` (the caller's CSR) and `sign-verbatim`
 * (sudo: the CSR's names as they are). Every role constraint is checked before anything is signed;
 * a refusal is a coded 400 and nothing is stored.
 *
 * Deviation from Vault, asked for by issue 19: a TTL above the role's max_ttl is refused
 * (ERR_PKI_TTL_EXCEEDS_MAX) instead of silently capped, so a caller never receives a shorter
 * certificate than it planned its renewal around.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { formatDuration } from '../../units/index.ts';
import { parseFields, vBool, vStringList, withIgnoredFields } from '../fields.ts';
import type { EngineResponse } from '../types.ts';
import { certSerialHex, type Issuer, type LeafParams, parseCsr, signLeaf } from './build.ts';
import { certOut } from './ca-paths.ts';
import { exportPkcs8, generateKeyPair, keyError, keySpec, privateKeyPem, specOfPublicKey } from './keys.ts';
import { checkNames, isHostname } from './names.ts';
import { buildRole, DEFAULT_TTL_SECONDS, defaultRole, type Role, requireRole } from './roles.ts';
import { loadUrls, type PkiState, subjectAndSans, ttlField } from './state.ts';
import { CERT_PREFIX, type CertRecord, putJson, serialColons, serialStorage } from './store.ts';
import { OID_BASIC_CONSTRAINTS, OID_SAN, type x509 } from './x509-lib.ts';

const issueSchema = z.object({
  common_name: z.string().max(1024).optional(),
  alt_names: vStringList.optional(),
  ip_sans: vStringList.optional(),
  uri_sans: vStringList.optional(),
  ttl: ttlField.optional(),
  format: z.enum(['pem', 'der', 'pem_bundle'], { error: 'the "format" field must be "pem", "der", or "pem_bundle"' }).optional(),
  private_key_format: z.enum(['der', 'pkcs8', ''], { error: 'private_key_format must be der or pkcs8' }).optional(),
  exclude_cn_from_sans: vBool.optional(),
  remove_roots_from_chain: vBool.optional(),
  csr: z.string().max(65536).optional(),
  key_usage: vStringList.optional(),
  ext_key_usage: vStringList.optional(),
});
type IssueInput = z.output<typeof issueSchema>;

/** Vault's warning for issue/sign fields this subset does not apply (e.g. other_sans, not_after): named, not silently missing. */
const withIgnored = (res: EngineResponse, data: Record<string, unknown>) => withIgnoredFields(res, issueSchema, data);

/** Vault: request ttl, else role ttl, else the mount default; refused above max_ttl and past the CA. */
function notAfterFor(role: Role, b: IssueInput, caNotAfter: Date, nowMs: number): Date {
  const max = role.max_ttl || DEFAULT_TTL_SECONDS;
  const ttl = b.ttl || role.ttl || Math.min(DEFAULT_TTL_SECONDS, max);
  if (ttl > max) throw new ArcaError('ERR_PKI_TTL_EXCEEDS_MAX', `the requested ttl is longer than the role's max_ttl (${formatDuration(max)}): ask for less`, { details: { field: 'ttl' } });
  const notAfter = new Date(nowMs + ttl * 1000);
  if (notAfter > caNotAfter) {
    throw new ArcaError('ERR_PKI_TTL_EXCEEDS_MAX', `cannot satisfy request, as TTL would result in notAfter of ${notAfter.toISOString()} that is beyond the expiration of the CA certificate at ${caNotAfter.toISOString()}`, { details: { field: 'ttl' } });
  }
  return notAfter;
}

function extKeyUsages(role: Role): string[] {
  const out = [...role.ext_key_usage];
  if (role.server_flag && !out.includes('ServerAuth')) out.push('ServerAuth');
  if (role.client_flag && !out.includes('ClientAuth')) out.push('ClientAuth');
  return out;
}

function checkKeyAgainstRole(role: Role, pk: x509.PublicKey): void {
  const spec = specOfPublicKey(pk);
  if (!spec) throw keyError('the csr key algorithm is not supported: use ec, rsa or ed25519');
  if (role.key_type === 'any') return;
  if (spec.type !== role.key_type) throw keyError(`role requires a key of type ${role.key_type}`);
  if (spec.type === 'ec' && spec.bits !== role.key_bits) throw keyError(`role requires an ec key of ${role.key_bits} bits`);
  if (spec.type === 'rsa' && spec.bits < role.key_bits) throw keyError(`role requires an rsa key of at least ${role.key_bits} bits`);
}

async function issuerOf(s: PkiState): Promise<{ issuer: Issuer; chain: string[] }> {
  const { ca, signingKey, cert } = await s.ca.load(s.storage);
  return { issuer: { cert, spec: ca.spec, signingKey }, chain: [ca.certPem, ...ca.parents] };
}

async function finish(s: PkiState, role: Role, cert: x509.X509Certificate, chain: string[], b: IssueInput, key?: { pem: string; type: string }): Promise<EngineResponse> {
  const hex = certSerialHex(cert);
  const pem = cert.toString('pem');
  const notAfter = Math.floor(cert.notAfter.getTime() / 1000);
  if (!role.no_store) await putJson(s.storage, CERT_PREFIX + serialStorage(hex)!, { pem, notAfter } satisfies CertRecord);
  // Audit trail for scoping a leak (reference §6.10): serial and expiry, never the key.
  s.log.info({ serial: serialColons(hex), notAfter, stored: !role.no_store }, 'pki certificate issued');
  const isRoot = chain.length === 1;
  const caChain = b.remove_roots_from_chain && isRoot ? [] : b.remove_roots_from_chain ? chain.slice(0, -1) : chain;
  const format = b.format ?? 'pem';
  const data: Record<string, unknown> = {
    certificate: certOut(pem, format),
    issuing_ca: certOut(chain[0]!, format),
    ca_chain: caChain.map((c) => certOut(c, format)),
    serial_number: serialColons(hex),
    expiration: notAfter,
    not_before: Math.floor(cert.notBefore.getTime() / 1000),
  };
  if (key) {
    data.private_key = format === 'der' ? Buffer.from(key.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64') : key.pem;
    data.private_key_type = key.type;
    if (format === 'pem_bundle') data.certificate = `${key.pem.trim()}\n${pem}\n${chain[0]!}`;
  } else if (format === 'pem_bundle') {
    data.certificate = `${pem}\n${chain[0]!}`;
  }
  return { data };
}

function leafParams(role: Role, names: ReturnType<typeof subjectAndSans>, publicKey: x509.PublicKeyType, nowMs: number, notAfter: Date): LeafParams {
  return {
    subject: names.subject,
    sans: names.sans,
    publicKey,
    notBefore: new Date(nowMs - role.not_before_duration * 1000),
    notAfter,
    keyUsage: role.key_usage,
    extKeyUsage: extKeyUsages(role),
  };
}

export async function issue(s: PkiState, roleName: string, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(issueSchema, data);
  const role = await requireRole(s.storage, roleName);
  if (role.key_type === 'any') throw keyError('a role with key_type any can only sign CSRs (sign/), not issue keys');
  const names = subjectAndSans(b, isHostname, role.organization, role.ou);
  checkNames(role, { commonName: names.subject.commonName, ...names.sans });
  const { issuer, chain } = await issuerOf(s);
  const now = s.now();
  const notAfter = notAfterFor(role, b, issuer.cert.notAfter, now);
  const spec = keySpec(role.key_type, role.key_bits);
  const keys = await generateKeyPair(spec);
  const cert = await signLeaf(issuer, { ...leafParams(role, names, keys.publicKey, now, notAfter), urls: await loadUrls(s) });
  const pkcs8 = await exportPkcs8(keys.privateKey);
  return withIgnored(await finish(s, role, cert, chain, b, { pem: privateKeyPem(spec, pkcs8, b.private_key_format === 'pkcs8' ? 'pkcs8' : 'der'), type: spec.type }), data);
}

function csrNames(csr: x509.Pkcs10CertificateRequest): { cn: string; dns: string[]; emails: string[]; ips: string[]; uris: string[] } {
  const san = (csr.getExtension(OID_SAN) as x509.SubjectAlternativeNameExtension | null);
  const items = san?.names.items ?? [];
  return {
    cn: csr.subjectName.getField('CN')[0] ?? '',
    dns: items.filter((i) => i.type === 'dns').map((i) => i.value),
    emails: items.filter((i) => i.type === 'email').map((i) => i.value),
    ips: items.filter((i) => i.type === 'ip').map((i) => i.value),
    uris: items.filter((i) => i.type === 'url').map((i) => i.value),
  };
}

/** `sign/:role`: names come from the CSR (use_csr_common_name / use_csr_sans) or the request. */
export async function sign(s: PkiState, roleName: string, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(issueSchema, data);
  const role = await requireRole(s.storage, roleName);
  if (!b.csr) throw new ArcaError('ERR_INVALID_REQUEST', 'the csr field is required', { details: { field: 'csr' } });
  const csr = await parseCsr(b.csr);
  checkKeyAgainstRole(role, csr.publicKey);
  const fromCsr = csrNames(csr);
  const input = {
    ...b,
    common_name: role.use_csr_common_name ? fromCsr.cn : (b.common_name ?? ''),
    alt_names: role.use_csr_sans ? [...fromCsr.dns, ...fromCsr.emails] : b.alt_names,
    ip_sans: role.use_csr_sans ? fromCsr.ips : b.ip_sans,
    uri_sans: role.use_csr_sans ? fromCsr.uris : b.uri_sans,
  };
  const names = subjectAndSans(input, isHostname, role.organization, role.ou);
  checkNames(role, { commonName: names.subject.commonName, ...names.sans });
  const { issuer, chain } = await issuerOf(s);
  const now = s.now();
  const notAfter = notAfterFor(role, b, issuer.cert.notAfter, now);
  const cert = await signLeaf(issuer, { ...leafParams(role, names, csr.publicKey, now, notAfter), urls: await loadUrls(s) });
  return withIgnored(await finish(s, role, cert, chain, b), data);
}

/**
 * `sign-verbatim(/:role)`: the CSR's subject and SANs unchecked (hence sudo), but never a CA
 * certificate; only ttl/max_ttl/no_store come from the role. Usages default to Vault's.
 */
export async function signVerbatim(s: PkiState, roleName: string | undefined, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(issueSchema, data);
  const base = roleName ? await requireRole(s.storage, roleName) : undefined;
  if (!b.csr) throw new ArcaError('ERR_INVALID_REQUEST', 'the csr field is required', { details: { field: 'csr' } });
  const csr = await parseCsr(b.csr);
  const bc = (csr.getExtension(OID_BASIC_CONSTRAINTS) as x509.BasicConstraintsExtension | null);
  if (bc?.ca) throw new ArcaError('ERR_PKI_CSR_INVALID', 'sign-verbatim refuses CA requests: use root/sign-intermediate', { details: { field: 'csr' } });
  const start: Role = { ...defaultRole(), key_type: 'any', key_bits: 0, ...(base ? { ttl: base.ttl, max_ttl: base.max_ttl, no_store: base.no_store } : {}) };
  // Through the role builder so usage names are checked the same way as on roles/.
  const role = buildRole(start, { ...(b.key_usage ? { key_usage: b.key_usage } : {}), ...(b.ext_key_usage ? { ext_key_usage: b.ext_key_usage } : {}) });
  const n = csrNames(csr);
  const { issuer, chain } = await issuerOf(s);
  const now = s.now();
  const notAfter = notAfterFor(role, b, issuer.cert.notAfter, now);
  const subject = { commonName: n.cn, organization: csr.subjectName.getField('O'), ou: csr.subjectName.getField('OU') };
  const cert = await signLeaf(issuer, {
    subject, sans: { dns: n.dns, emails: n.emails, ips: n.ips, uris: n.uris }, publicKey: csr.publicKey,
    notBefore: new Date(now - role.not_before_duration * 1000), notAfter, keyUsage: role.key_usage, extKeyUsage: extKeyUsages(role), urls: await loadUrls(s),
  });
  return withIgnored(await finish(s, role, cert, chain, b), data);
}
