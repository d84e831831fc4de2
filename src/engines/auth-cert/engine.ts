/**
 * The `cert` auth method (Vault's auth/cert subset): `certs/:name` (a trusted CA or leaf PEM, name
 * constraints, token fields), `certs` (LIST) and `login`. The client certificate comes only from
 * the TLS handshake of the server's own listener (EngineRequest.tlsClientCerts); no header is ever
 * trusted, so behind a TLS-terminating proxy login is refused (ERR_CERT_AUTH_TLS_REQUIRED).
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import type { Storage } from '../../storage/index.ts';
import { ignoredFieldsResponse, parseFields, vStringList } from '../fields.ts';
import { EngineRouter } from '../router.ts';
import { checkLoginFrom, mergeTokenFields, storedTokenFields, TOKEN_FIELDS_DEFAULTS, type TokenFields, tokenFieldsData, tokenFieldsShape, tokenIssue } from '../token-fields.ts';
import type { Engine, EngineContext, EngineResponse } from '../types.ts';
import { type CertRoleConstraints, chainTrusted, commonName, constraintsMatch } from './verify.ts';

const ROLE_PREFIX = 'cert/';
const NAME = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

interface CertRole extends CertRoleConstraints, TokenFields {
  display_name: string;
}

const roleSchema = z.object({
  certificate: z.string({ error: 'certificate (PEM) is required' }).max(65536),
  display_name: z.string().max(256).optional(),
  allowed_common_names: vStringList.optional(),
  allowed_dns_sans: vStringList.optional(),
  ...tokenFieldsShape,
});
const loginSchema = z.object({ name: z.string().max(128).optional() });

const enc = new TextEncoder();
const dec = new TextDecoder();

function roleName(raw: string): string {
  const n = raw.toLowerCase();
  if (!NAME.test(n)) throw new ArcaError('ERR_INVALID_REQUEST', 'certificate role names are 1-128 lower-case letters, digits, ".", "_" or "-"');
  return n;
}

function parsePem(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ArcaError('ERR_INVALID_REQUEST', 'failed to parse certificate', { details: { field: 'certificate' } });
  }
}

async function load(s: Storage, name: string): Promise<CertRole | undefined> {
  const b = await s.get(ROLE_PREFIX + name);
  // Roles written before the other token fields existed take their defaults.
  return b === undefined ? undefined : storedTokenFields(JSON.parse(dec.decode(b)) as CertRole);
}

async function writeRole(s: Storage, raw: string, data: Record<string, unknown>): Promise<{ data: null; warnings: string[] } | undefined> {
  const name = roleName(raw);
  const b = parseFields(roleSchema, data);
  const cert = parsePem(b.certificate);
  const eku = cert.keyUsage;
  if (!cert.ca && eku && eku.length && !eku.includes('1.3.6.1.5.5.7.3.2') && !eku.includes('2.5.29.37.0')) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'nonCA certificates should have TLS client authentication set as an extended key usage', { details: { field: 'certificate' } });
  }
  // A write replaces the role (the certificate is required), so the token fields start from the defaults.
  const role: CertRole = {
    ...mergeTokenFields(TOKEN_FIELDS_DEFAULTS, b),
    certificate: cert.toString(), display_name: b.display_name ?? name, allowed_common_names: b.allowed_common_names ?? [],
    allowed_dns_sans: b.allowed_dns_sans ?? [],
  };
  await s.put(ROLE_PREFIX + name, enc.encode(JSON.stringify(role)));
  return ignoredFieldsResponse(roleSchema, data);
}

function describe(r: CertRole): Record<string, unknown> {
  return { certificate: r.certificate, display_name: r.display_name, allowed_common_names: r.allowed_common_names, allowed_dns_sans: r.allowed_dns_sans, ...tokenFieldsData(r) };
}

export function createCertAuthEngine(ctx: EngineContext): Engine {
  const s = ctx.storage;
  const log = ctx.log.child({ component: 'auth-cert' });

  async function login(mountPoint: string, clientAddr: string, data: Record<string, unknown>, certs: Uint8Array[] | undefined): Promise<EngineResponse> {
    const b = parseFields(loginSchema, data);
    if (certs === undefined) throw new ArcaError('ERR_CERT_AUTH_TLS_REQUIRED', 'tls connection required: log in directly over the server\'s TLS listener (a TLS-terminating proxy cannot pass the client certificate)');
    if (certs.length === 0) throw new ArcaError('ERR_CERT_AUTH_INVALID', 'client certificate must be supplied');
    let chain: X509Certificate[];
    try {
      chain = certs.map((c) => new X509Certificate(Buffer.from(c)));
    } catch {
      throw new ArcaError('ERR_CERT_AUTH_INVALID', 'invalid certificate or no client certificate supplied');
    }
    const names = b.name ? [roleName(b.name)] : (await s.list(ROLE_PREFIX)).filter((k) => !k.endsWith('/')).sort();
    const now = ctx.now();
    let trusted = false;
    for (const name of names) {
      const role = await load(s, name);
      if (!role || !chainTrusted(new X509Certificate(role.certificate), chain, now)) continue;
      trusted = true;
      if (!constraintsMatch(role, chain[0]!)) continue;
      const leaf = chain[0]!;
      // The matching role's token_bound_cidrs (Vault checks them once the role is chosen).
      checkLoginFrom(role, clientAddr);
      log.info({ role: name, serial: leaf.serialNumber.toLowerCase() }, 'cert login');
      const metadata = { cert_name: name, common_name: commonName(leaf), serial_number: BigInt(`0x${leaf.serialNumber}`).toString(10) };
      return { issue: tokenIssue(role, { mountPoint, name: role.display_name, metadata }) };
    }
    if (trusted) throw new ArcaError('ERR_CERT_AUTH_NO_MATCH', 'no chain matching all constraints could be found for this login certificate');
    throw new ArcaError('ERR_CERT_AUTH_INVALID', 'invalid certificate or no client certificate supplied');
  }

  const router = new EngineRouter()
    .add('certs', { list: async () => {
      const keys = (await s.list(ROLE_PREFIX)).filter((k) => !k.endsWith('/')).sort();
      if (!keys.length) throw new ArcaError('ERR_NOT_FOUND', '');
      return { data: { keys } };
    } })
    .add('certs/:name', {
      read: async (_r, p) => {
        const r = await load(s, roleName(p.name!));
        if (!r) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: describe(r) };
      },
      update: (r, p) => writeRole(s, p.name!, r.data),
      delete: async (_r, p) => {
        await s.delete(ROLE_PREFIX + roleName(p.name!));
        return undefined;
      },
    })
    .add('login', { update: (r) => login(r.mountPoint, r.clientAddr, r.data, r.tlsClientCerts) });

  return {
    type: 'cert',
    handle: (req) => {
      if (!req.mountPoint.startsWith('auth/')) throw new ArcaError('ERR_INVALID_REQUEST', 'the cert auth method must be enabled under auth/ with sys/auth/<path>');
      return router.dispatch({ ...req, path: req.path.replace(/\/$/, '') });
    },
    routes: () => router.routes(),
    exists: async () => true,
  };
}
