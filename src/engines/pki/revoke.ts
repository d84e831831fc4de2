/**
 * Revocation, the CRL, the certificate store and tidy.
 *
 * The CRL stays bounded: it lists only revoked certificates that have not yet expired (an expired
 * certificate is refused by every verifier anyway), and the scheduled tidy (engine tick) deletes
 * `revoked/` entries and, past the safety buffer, expired `certs/` entries. This is what keeps a
 * busy short-lived PKI from growing a CRL without limit, the failure Vault's PKI is known for.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { parseFields, vBool, vDurationIn, withIgnoredFields } from '../fields.ts';
import type { EngineResponse } from '../types.ts';
import { buildCrl, certSerialHex, parseCertificate, toPem } from './build.ts';
import type { PkiState } from './state.ts';
import { CA_KEY, type CaRecord, CERT_PREFIX, type CertRecord, CRL_KEY, encodeJson, getJson, REVOKED_PREFIX, type RevokedRecord, serialColons, serialHex, serialStorage } from './store.ts';
import { x509 } from './x509-lib.ts';

/** How long a CRL is valid (Vault's config/crl expiry default). It is rebuilt at half-life. */
const CRL_LIFETIME_S = 72 * 3600;
const DEFAULT_SAFETY_BUFFER_S = 72 * 3600;

interface CrlCache {
  der: string;
  builtAt: number;
}

const revokeSchema = z.object({ serial_number: z.string().max(256).optional(), certificate: z.string().max(65536).optional() });
const tidySchema = z.object({
  tidy_cert_store: vBool.optional(),
  tidy_revoked_certs: vBool.optional(),
  safety_buffer: vDurationIn({ min: 0, max: 100 * 365 * 86400 }).optional(),
});

const nowSec = (s: PkiState) => Math.floor(s.now() / 1000);

/** `revoke`, with Vault's warning for body fields it does not take. */
export async function revoke(s: PkiState, data: Record<string, unknown>): Promise<EngineResponse> {
  return withIgnoredFields(await revokeCert(s, data), revokeSchema, data);
}

async function revokeCert(s: PkiState, data: Record<string, unknown>): Promise<EngineResponse> {
  const b = parseFields(revokeSchema, data);
  if (b.serial_number && b.certificate) throw new ArcaError('ERR_INVALID_REQUEST', 'Must provide either the certificate or the serial to revoke; not both.');
  let key: string | undefined;
  if (b.certificate) key = serialStorage(certSerialHex(parseCertificate(b.certificate)));
  else if (b.serial_number) key = serialStorage(b.serial_number);
  else throw new ArcaError('ERR_INVALID_REQUEST', 'The serial number or certificate to revoke must be provided.');
  if (!key) throw new ArcaError('ERR_INVALID_REQUEST', 'serial_number must be hex bytes separated by ":" or "-"', { details: { field: 'serial_number' } });
  const ca = await getJson<CaRecord>(s.storage, CA_KEY);
  if (ca && serialStorage(certSerialHex(new x509.X509Certificate(ca.certPem))) === key) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'adding the issuer to its own CRL is not allowed');
  }
  const rec = await getJson<CertRecord>(s.storage, CERT_PREFIX + key);
  if (!rec) throw new ArcaError('ERR_PKI_CERT_UNKNOWN', 'no stored certificate has this serial (no_store certificates cannot be revoked)', { details: { field: 'serial_number' } });
  const now = nowSec(s);
  if (rec.revokedAt) return { data: { revocation_time: rec.revokedAt, revocation_time_rfc3339: new Date(rec.revokedAt * 1000).toISOString() } };
  if (rec.notAfter <= now) {
    return { data: { revocation_time: 0 }, warnings: ['certificate with this serial has already expired; refusing to add to CRL'] };
  }
  // The revocation and the CRL that lists it are one commit: a revoked certificate is never missing
  // from the CRL served, and a failed write leaves the certificate unrevoked (a retry revokes it).
  await rebuildCrl(s, {
    key,
    revokedAt: now,
    puts: [
      [CERT_PREFIX + key, encodeJson({ ...rec, revokedAt: now } satisfies CertRecord)],
      [REVOKED_PREFIX + key, encodeJson({ revokedAt: now, notAfter: rec.notAfter } satisfies RevokedRecord)],
    ],
  });
  s.log.info({ serial: key.replace(/-/g, ':') }, 'pki certificate revoked');
  return { data: { revocation_time: now, revocation_time_rfc3339: new Date(now * 1000).toISOString() } };
}

/** A revocation not stored yet: its entry goes into the CRL, its records into the CRL's commit. */
interface Revoking {
  key: string;
  revokedAt: number;
  puts: [string, Uint8Array][];
}

/** How often a CRL rebuild starts over when a concurrent one committed first. */
const CRL_ATTEMPTS = 8;

/**
 * Signs a fresh CRL from `revoked/` (and `adding`), leaving out entries whose certificate expired,
 * and writes it in one commit with their deletion and `adding`'s records. The commit expects the CRL
 * it replaced: of two concurrent rebuilds the later one starts over, so no revocation is dropped.
 */
export async function rebuildCrl(s: PkiState, adding?: Revoking): Promise<Uint8Array | undefined> {
  if (!(await getJson(s.storage, CA_KEY))) return undefined;
  const { ca, signingKey } = await s.ca.load(s.storage);
  for (let attempt = 0; attempt < CRL_ATTEMPTS; attempt++) {
    const previous = await s.storage.get(CRL_KEY);
    const now = nowSec(s);
    const entries: { serialHex: string; revokedAt: number }[] = [];
    const expired: string[] = [];
    for (const k of await s.storage.list(REVOKED_PREFIX)) {
      if (k.endsWith('/') || k === adding?.key) continue;
      const r = await getJson<RevokedRecord>(s.storage, REVOKED_PREFIX + k);
      if (!r) continue;
      if (r.notAfter <= now) expired.push(REVOKED_PREFIX + k);
      else entries.push({ serialHex: serialHex(k), revokedAt: r.revokedAt });
    }
    if (adding) entries.push({ serialHex: serialHex(adding.key), revokedAt: adding.revokedAt });
    const crl = await buildCrl({ cert: new x509.X509Certificate(ca.certPem), spec: ca.spec, signingKey }, entries, new Date(now * 1000), new Date((now + CRL_LIFETIME_S) * 1000));
    const der = new Uint8Array(crl.rawData);
    const cache = encodeJson({ der: Buffer.from(der).toString('base64'), builtAt: now } satisfies CrlCache);
    if (await s.storage.commit({ puts: [...(adding?.puts ?? []), [CRL_KEY, cache]], deletes: expired, expect: [[CRL_KEY, previous]] })) return der;
  }
  throw new ArcaError('ERR_STORAGE_CONFLICT', 'the CRL kept changing under concurrent revocations; retry');
}

async function currentCrl(s: PkiState): Promise<Uint8Array | undefined> {
  const c = await getJson<CrlCache>(s.storage, CRL_KEY);
  if (c && nowSec(s) - c.builtAt < CRL_LIFETIME_S / 2) return Buffer.from(c.der, 'base64');
  return rebuildCrl(s);
}

/** `crl` (DER) and `crl/pem`; 204 when there is no CA. */
export async function fetchCrl(s: PkiState, pem: boolean): Promise<EngineResponse | undefined> {
  const der = await currentCrl(s);
  if (!der) return undefined;
  if (pem) return { status: 200, raw: { contentType: 'application/x-pem-file', body: `${toPem(der, 'X509 CRL')}\n` } };
  return { status: 200, raw: { contentType: 'application/pkix-crl', body: der } };
}

/** `cert/crl`: Vault's legacy JSON form, the PEM CRL in `certificate`. */
export async function readCrlJson(s: PkiState): Promise<EngineResponse> {
  const der = await currentCrl(s);
  if (!der) throw new ArcaError('ERR_NOT_FOUND', '');
  return { data: { certificate: toPem(der, 'X509 CRL'), revocation_time: 0 } };
}

export async function rotateCrl(s: PkiState): Promise<EngineResponse> {
  await rebuildCrl(s);
  return { data: { success: true } };
}

export async function readCert(s: PkiState, serial: string): Promise<EngineResponse> {
  const key = serialStorage(serial);
  const rec = key ? await getJson<CertRecord>(s.storage, CERT_PREFIX + key) : undefined;
  if (!rec) throw new ArcaError('ERR_NOT_FOUND', '');
  const t = rec.revokedAt ?? 0;
  return { data: { certificate: rec.pem, revocation_time: t, revocation_time_rfc3339: t ? new Date(t * 1000).toISOString() : '' } };
}

export async function listCerts(s: PkiState, revokedOnly: boolean): Promise<EngineResponse> {
  const keys = (await s.storage.list(revokedOnly ? REVOKED_PREFIX : CERT_PREFIX)).filter((k) => !k.endsWith('/')).map((k) => serialColons(serialHex(k)));
  if (keys.length === 0) throw new ArcaError('ERR_NOT_FOUND', '');
  return { data: { keys } };
}

export interface TidyStatus {
  state: 'Inactive' | 'Running' | 'Finished' | 'Error';
  cert_store_deleted_count: number;
  revoked_cert_deleted_count: number;
  time_started: string | null;
  time_finished: string | null;
  error: string | null;
}

/** Deletes expired entries older than the safety buffer; returns the counts. */
export async function runTidy(s: PkiState, opts: { certStore: boolean; revoked: boolean; safetyBuffer: number }): Promise<{ certs: number; revoked: number }> {
  const cutoff = nowSec(s) - opts.safetyBuffer;
  let certs = 0;
  let revoked = 0;
  if (opts.certStore) {
    for (const k of await s.storage.list(CERT_PREFIX)) {
      const r = k.endsWith('/') ? undefined : await getJson<CertRecord>(s.storage, CERT_PREFIX + k);
      if (r && r.notAfter < cutoff) {
        await s.storage.delete(CERT_PREFIX + k);
        certs++;
      }
    }
  }
  if (opts.revoked) {
    for (const k of await s.storage.list(REVOKED_PREFIX)) {
      const r = k.endsWith('/') ? undefined : await getJson<RevokedRecord>(s.storage, REVOKED_PREFIX + k);
      if (r && r.notAfter < cutoff) {
        await s.storage.delete(REVOKED_PREFIX + k);
        revoked++;
      }
    }
  }
  if (revoked) await rebuildCrl(s);
  return { certs, revoked };
}

/** `tidy`: runs in the background (Vault answers 202 and reports through `tidy-status`). */
export function startTidy(s: PkiState, status: TidyStatus, data: Record<string, unknown>): EngineResponse {
  const b = parseFields(tidySchema, data);
  if (!b.tidy_cert_store && !b.tidy_revoked_certs) throw new ArcaError('ERR_INVALID_REQUEST', 'tidy needs tidy_cert_store or tidy_revoked_certs set to true');
  if (status.state === 'Running') return { status: 202, warnings: ['a tidy operation is already running; see tidy-status'] };
  Object.assign(status, { state: 'Running', time_started: new Date(s.now()).toISOString(), time_finished: null, error: null, cert_store_deleted_count: 0, revoked_cert_deleted_count: 0 });
  runTidy(s, { certStore: !!b.tidy_cert_store, revoked: !!b.tidy_revoked_certs, safetyBuffer: b.safety_buffer ?? DEFAULT_SAFETY_BUFFER_S })
    .then((r) => Object.assign(status, { state: 'Finished', cert_store_deleted_count: r.certs, revoked_cert_deleted_count: r.revoked }))
    .catch((err: unknown) => {
      s.log.error({ err }, 'pki tidy failed');
      Object.assign(status, { state: 'Error', error: 'tidy failed; see the server log' });
    })
    .finally(() => {
      status.time_finished = new Date(s.now()).toISOString();
    });
  return withIgnoredFields<EngineResponse>({ status: 202, warnings: ['Tidy operation successfully started. Any information from the operation will be printed to Arca\'s server logs.'] }, tidySchema, data);
}

export function tidyStatus(status: TidyStatus): EngineResponse {
  return { data: { ...status } };
}

export { DEFAULT_SAFETY_BUFFER_S };
