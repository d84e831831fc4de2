/** `roles/:name` and `roles` (Vault's path_roles.go subset): what issue/ and sign/ may produce. */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import type { Storage } from '../../storage/index.ts';
import { checkRoleName, outOfRange, parseFields, vBool, vDurationIn, vIntIn, vStringList, withIgnoredFields } from '../fields.ts';
import type { EngineResponse } from '../types.ts';
import { keyError, keySpec } from './keys.ts';
import { getJson, putJson, ROLE_PREFIX } from './store.ts';

/** Ten years covers a long-lived CA; leaves get far less (the control-plane roles use hours). */
export const MAX_TTL_SECONDS = 100 * 365 * 86400;
/** Vault's system default lease TTL (768h), used when neither request nor role set one. */
export const DEFAULT_TTL_SECONDS = 768 * 3600;

const KEY_USAGES = ['DigitalSignature', 'ContentCommitment', 'KeyEncipherment', 'DataEncipherment', 'KeyAgreement', 'CertSign', 'CRLSign', 'EncipherOnly', 'DecipherOnly'] as const;
const EXT_KEY_USAGES = ['Any', 'ServerAuth', 'ClientAuth', 'CodeSigning', 'EmailProtection', 'TimeStamping', 'OCSPSigning'] as const;

export interface Role {
  ttl: number;
  max_ttl: number;
  allowed_domains: string[];
  allow_bare_domains: boolean;
  allow_subdomains: boolean;
  allow_glob_domains: boolean;
  allow_any_name: boolean;
  allow_localhost: boolean;
  enforce_hostnames: boolean;
  allow_ip_sans: boolean;
  allowed_uri_sans: string[];
  server_flag: boolean;
  client_flag: boolean;
  key_type: 'ec' | 'rsa' | 'ed25519' | 'any';
  key_bits: number;
  key_usage: string[];
  ext_key_usage: string[];
  organization: string[];
  ou: string[];
  no_store: boolean;
  require_cn: boolean;
  use_csr_common_name: boolean;
  use_csr_sans: boolean;
  not_before_duration: number;
}

const ttl = vDurationIn({ max: MAX_TTL_SECONDS });

const roleSchema = z.object({
  ttl: ttl.optional(),
  max_ttl: ttl.optional(),
  allowed_domains: vStringList.optional(),
  allow_bare_domains: vBool.optional(),
  allow_subdomains: vBool.optional(),
  allow_glob_domains: vBool.optional(),
  allow_any_name: vBool.optional(),
  allow_localhost: vBool.optional(),
  enforce_hostnames: vBool.optional(),
  allow_ip_sans: vBool.optional(),
  allowed_uri_sans: vStringList.optional(),
  server_flag: vBool.optional(),
  client_flag: vBool.optional(),
  key_type: z.string().optional(),
  key_bits: vIntIn(0, 8192).optional(),
  key_usage: vStringList.optional(),
  ext_key_usage: vStringList.optional(),
  organization: vStringList.optional(),
  ou: vStringList.optional(),
  no_store: vBool.optional(),
  require_cn: vBool.optional(),
  use_csr_common_name: vBool.optional(),
  use_csr_sans: vBool.optional(),
  not_before_duration: vDurationIn({ max: 86400 }).optional(),
});

export function defaultRole(): Role {
  return {
    ttl: 0, max_ttl: 0, allowed_domains: [], allow_bare_domains: false, allow_subdomains: false, allow_glob_domains: false,
    allow_any_name: false, allow_localhost: true, enforce_hostnames: true, allow_ip_sans: true, allowed_uri_sans: [],
    server_flag: true, client_flag: true, key_type: 'rsa', key_bits: 0, key_usage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'],
    ext_key_usage: [], organization: [], ou: [], no_store: false, require_cn: true, use_csr_common_name: true, use_csr_sans: true,
    not_before_duration: 30,
  };
}

/** Case-insensitive match against Go's names (Vault accepts `digitalsignature` as well). */
function canonical(list: string[], allowed: readonly string[], field: string): string[] {
  return list.map((u) => {
    const hit = allowed.find((a) => a.toLowerCase() === u.toLowerCase());
    if (!hit) throw new ArcaError('ERR_INVALID_REQUEST', `${field} entries must be among: ${allowed.join(', ')}`, { details: { field } });
    return hit;
  });
}

/** POST replaces the role (omitted fields take defaults), PATCH merges into the stored one. */
export function buildRole(base: Role, data: Record<string, unknown>): Role {
  const b = parseFields(roleSchema, data);
  const r: Role = { ...base };
  for (const [k, v] of Object.entries(b)) if (v !== undefined) (r as unknown as Record<string, unknown>)[k] = v;
  if (!['ec', 'rsa', 'ed25519', 'any'].includes(r.key_type)) throw keyError('key_type must be ec, rsa, ed25519 or any');
  if (r.key_type !== 'any') r.key_bits = keySpec(r.key_type, r.key_bits).bits;
  else if (r.key_bits !== 0) throw keyError('key_bits must be 0 when key_type is any');
  r.key_usage = canonical(r.key_usage, KEY_USAGES, 'key_usage');
  r.ext_key_usage = canonical(r.ext_key_usage, EXT_KEY_USAGES, 'ext_key_usage');
  if (r.max_ttl > 0 && r.ttl > r.max_ttl) throw outOfRange('ttl', 'must be less than "max_ttl" value');
  return r;
}

export function describeRole(r: Role): Record<string, unknown> {
  return { ...r };
}

export async function loadRole(s: Storage, name: string): Promise<Role | undefined> {
  const r = await getJson<Role>(s, ROLE_PREFIX + name);
  return r ? { ...defaultRole(), ...r } : undefined;
}

export async function writeRole(s: Storage, name: string, data: Record<string, unknown>, patch: boolean): Promise<EngineResponse> {
  checkRoleName(name);
  let base = defaultRole();
  if (patch) {
    const cur = await loadRole(s, name);
    if (!cur) throw new ArcaError('ERR_NOT_FOUND', '');
    base = cur;
  }
  const role = buildRole(base, data);
  await putJson(s, ROLE_PREFIX + name, role);
  // Vault's role takes more fields than this subset (country, code_signing_flag, ...): say which were ignored.
  return withIgnoredFields<EngineResponse>({ data: describeRole(role) }, roleSchema, data);
}

export async function readRole(s: Storage, name: string): Promise<EngineResponse> {
  const r = await loadRole(s, checkRoleName(name));
  if (!r) throw new ArcaError('ERR_NOT_FOUND', '');
  return { data: describeRole(r) };
}

export async function listRoles(s: Storage): Promise<EngineResponse> {
  const keys = (await s.list(ROLE_PREFIX)).filter((k) => !k.endsWith('/')).sort();
  if (keys.length === 0) throw new ArcaError('ERR_NOT_FOUND', '');
  return { data: { keys } };
}

export async function deleteRole(s: Storage, name: string): Promise<undefined> {
  await s.delete(ROLE_PREFIX + checkRoleName(name));
  return undefined;
}

export async function requireRole(s: Storage, name: string): Promise<Role> {
  const r = await loadRole(s, checkRoleName(name));
  if (!r) throw new ArcaError('ERR_PKI_ROLE_UNKNOWN', 'unknown role: create it with roles/<name> first', { details: { field: 'role' } });
  return r;
}
