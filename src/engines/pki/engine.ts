/**
 * The pki secrets engine (Vault's `pki`, one CA per mount): X.509 certificates for the control
 * plane with short lifetimes, the CA key inside the barrier. Mount it several times for separate
 * roots of trust (Kubernetes CA, etcd CA, front-proxy CA: see `arca pki control-plane init`).
 */
import { ArcaError } from '../../errors/index.ts';
import type { HsmEcKeys } from '../../keys/index.ts';
import type { Engine, EngineContext } from '../types.ts';
import { EngineRouter } from '../router.ts';
import { fetchCa, generateIntermediate, generateRoot, readCaJson, readUrls, setSigned, signIntermediatePath, writeUrls } from './ca-paths.ts';
import { issue, sign, signVerbatim } from './issue.ts';
import { deleteRole, listRoles, readRole, writeRole } from './roles.ts';
import { DEFAULT_SAFETY_BUFFER_S, fetchCrl, listCerts, readCert, readCrlJson, revoke, rotateCrl, runTidy, startTidy, type TidyStatus, tidyStatus } from './revoke.ts';
import { newState } from './state.ts';

/** Scheduled tidy runs at most this often (the core ticks every few seconds). */
const AUTO_TIDY_INTERVAL_MS = 3600_000;

export interface PkiDeps {
  /** Mount options: `key_storage` = `barrier` (default) or `hsm`. */
  options?: Record<string, string>;
  /** The server's PKCS#11 token, when keys.pkcs11 is configured. */
  hsm?: HsmEcKeys | undefined;
}

export function createPkiEngine(ctx: EngineContext, deps: PkiDeps = {}): Engine {
  const storage = deps.options?.['key_storage'] ?? 'barrier';
  if (storage !== 'barrier' && storage !== 'hsm') throw new ArcaError('ERR_INVALID_REQUEST', 'the pki option key_storage must be barrier or hsm');
  if (storage === 'hsm' && !deps.hsm) throw new ArcaError('ERR_INVALID_REQUEST', 'key_storage=hsm needs a server with keys.pkcs11 configured');
  const s = newState(ctx.storage, ctx.now, ctx.log.child({ component: 'pki' }), storage, deps.hsm);
  const status: TidyStatus = { state: 'Inactive', cert_store_deleted_count: 0, revoked_cert_deleted_count: 0, time_started: null, time_finished: null, error: null };
  let lastTidy = 0;
  const router = new EngineRouter()
    .add('root/generate/:type', { update: (r, p) => generateRoot(s, p.type!, r.data) })
    .add('root/sign-intermediate', { update: (r) => signIntermediatePath(s, r.data) })
    .add('intermediate/generate/:type', { update: (r, p) => generateIntermediate(s, p.type!, r.data) })
    .add('intermediate/set-signed', { update: (r) => setSigned(s, r.data) })
    .add('config/urls', { read: () => readUrls(s), update: (r) => writeUrls(s, r.data) })
    .add('roles', { list: () => listRoles(s.storage) })
    .add('roles/:name', {
      read: (_r, p) => readRole(s.storage, p.name!),
      update: (r, p) => writeRole(s.storage, p.name!, r.data, false),
      patch: (r, p) => writeRole(s.storage, p.name!, r.data, true),
      delete: (_r, p) => deleteRole(s.storage, p.name!),
    })
    .add('issue/:role', { update: (r, p) => issue(s, p.role!, r.data) })
    .add('sign/:role', { update: (r, p) => sign(s, p.role!, r.data) })
    .add('sign-verbatim', { update: (r) => signVerbatim(s, undefined, r.data) })
    .add('sign-verbatim/:role', { update: (r, p) => signVerbatim(s, p.role!, r.data) })
    .add('revoke', { update: (r) => revoke(s, r.data) })
    .add('certs', { list: () => listCerts(s, false) })
    .add('certs/revoked', { list: () => listCerts(s, true) })
    .add('cert/ca', { read: () => readCaJson(s, false) })
    .add('cert/ca_chain', { read: () => readCaJson(s, true) })
    .add('cert/crl', { read: () => readCrlJson(s) })
    .add('cert/:serial', { read: (_r, p) => readCert(s, p.serial!) })
    .add('ca', { read: () => fetchCa(s, 'der') })
    .add('ca/pem', { read: () => fetchCa(s, 'pem') })
    .add('ca_chain', { read: () => fetchCa(s, 'chain') })
    .add('crl', { read: () => fetchCrl(s, false) })
    .add('crl/pem', { read: () => fetchCrl(s, true) })
    .add('crl/rotate', { read: () => rotateCrl(s) })
    .add('tidy', { update: async (r) => startTidy(s, status, r.data) })
    .add('tidy-status', { read: async () => tidyStatus(status) });

  return {
    type: 'pki',
    // Private keys in issue/exported answers and CSR-signing inputs are HMAC'd in the audit log.
    // `certificate` too: format=pem_bundle puts the private key into it.
    sensitiveFields: ['private_key', 'certificate'],
    handle: (req) => router.dispatch({ ...req, path: req.path.replace(/\/$/, '') }),
    routes: () => router.routes(),
    exists: async () => true,
    /** Scheduled tidy: expired certificates and CRL entries leave storage (bounded CRL). */
    async tick(): Promise<void> {
      const now = ctx.now();
      if (now - lastTidy < AUTO_TIDY_INTERVAL_MS) return;
      lastTidy = now;
      const r = await runTidy(s, { certStore: true, revoked: true, safetyBuffer: DEFAULT_SAFETY_BUFFER_S });
      if (r.certs || r.revoked) s.log.info({ certs: r.certs, revoked: r.revoked }, 'pki scheduled tidy');
    },
  };
}
