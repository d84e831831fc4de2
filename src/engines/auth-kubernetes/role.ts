/**
 * `auth/<mount>/role/:name`: which service accounts may log in and what token they get.
 * Field names and defaults as vault-plugin-auth-kubernetes `path_role.go`, including the deprecated
 * aliases (`policies`, `ttl`, ...) that older clients such as node-vault's examples still send.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { addrInCidrs, validCidr } from '../cidr.ts';
import { ignoredFieldsWarning, parseFields, vBool, vDuration, vInt, vStringList } from '../fields.ts';

export interface KubernetesRole {
  bound_service_account_names: string[];
  bound_service_account_namespaces: string[];
  audience: string;
  alias_name_source: 'serviceaccount_uid' | 'serviceaccount_name';
  token_policies: string[];
  token_ttl: number;
  token_max_ttl: number;
  token_num_uses: number;
  token_bound_cidrs: string[];
  token_no_default_policy: boolean;
  /** Periodic tokens: every renewal resets the TTL to this (0 = not periodic). */
  token_period: number;
  /** Hard cap on the token's life, renewals included (0 = none besides token_max_ttl). */
  token_explicit_max_ttl: number;
  /**
   * Vault's spellings. A role's logins get batch tokens for `batch` and `default-batch` (an auth
   * method's login asks for no type, so the default is the type), service tokens otherwise.
   */
  token_type: 'default' | 'service' | 'default-service' | 'batch' | 'default-batch';
}

/** Ten years: far beyond any sensible token lifetime, small enough that `now + ttl` stays exact. */
export const MAX_DURATION_SECONDS = 10 * 365 * 86400;
/** Fits a signed 32-bit counter, as Vault's `int` field does. */
export const MAX_NUM_USES = 2 ** 31 - 1;

export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const duration = (field: string) =>
  vDuration.refine((n) => n <= MAX_DURATION_SECONDS, `${field} must be between 0 and ${MAX_DURATION_SECONDS} seconds`);

const cidr = z.string().refine(validCidr, 'token_bound_cidrs entries must be IP addresses or CIDR blocks such as 10.0.0.0/8');

const Fields = z.object({
  bound_service_account_names: vStringList.optional(),
  bound_service_account_namespaces: vStringList.optional(),
  audience: z.string().max(1024, 'audience is longer than 1024 characters').optional(),
  alias_name_source: z.enum(['serviceaccount_uid', 'serviceaccount_name'], 'alias_name_source must be serviceaccount_uid or serviceaccount_name').optional(),
  token_policies: vStringList.optional(),
  policies: vStringList.optional(),
  token_ttl: duration('token_ttl').optional(),
  ttl: duration('ttl').optional(),
  token_max_ttl: duration('token_max_ttl').optional(),
  max_ttl: duration('max_ttl').optional(),
  token_num_uses: vInt.refine((n) => n >= 0 && n <= MAX_NUM_USES, `token_num_uses must be between 0 and ${MAX_NUM_USES}`).optional(),
  num_uses: vInt.refine((n) => n >= 0 && n <= MAX_NUM_USES, `num_uses must be between 0 and ${MAX_NUM_USES}`).optional(),
  token_bound_cidrs: z.union([z.array(cidr), vStringList.pipe(z.array(cidr))]).optional(),
  bound_cidrs: z.union([z.array(cidr), vStringList.pipe(z.array(cidr))]).optional(),
  token_no_default_policy: vBool.optional(),
  token_period: duration('token_period').optional(),
  period: duration('period').optional(),
  token_explicit_max_ttl: duration('token_explicit_max_ttl').optional(),
  token_type: z.enum(['default', 'service', 'default-service', 'batch', 'default-batch'], 'token_type must be service, batch, default, default-service or default-batch').optional(),
  bound_service_account_namespace_selector: z.string().max(4096, 'bound_service_account_namespace_selector is longer than 4096 characters').optional(),
});

const EMPTY: KubernetesRole = {
  bound_service_account_names: [], bound_service_account_namespaces: [], audience: '', alias_name_source: 'serviceaccount_uid',
  token_policies: [], token_ttl: 0, token_max_ttl: 0, token_num_uses: 0, token_bound_cidrs: [], token_no_default_policy: false,
  token_period: 0, token_explicit_max_ttl: 0, token_type: 'default',
};

/** A stored role; fields added later take their defaults in roles written before them. */
export function storedRole(json: string): KubernetesRole {
  return { ...EMPTY, ...(JSON.parse(json) as Partial<KubernetesRole>) };
}

/** Whether this role's logins get batch tokens (core/batch-tokens.ts). */
export const issuesBatch = (r: KubernetesRole) => r.token_type === 'batch' || r.token_type === 'default-batch';

function invalid(field: string, message: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message, { details: { field } });
}

/** Parses a role write over the existing role (Vault's role write is an upsert of given fields). */
export function parseRole(data: Record<string, unknown>, current: KubernetesRole | undefined): { role: KubernetesRole; warnings: string[] } {
  const f = parseFields(Fields, data);
  const r: KubernetesRole = { ...(current ?? EMPTY) };
  const pick = <T>(a: T | undefined, b: T | undefined): T | undefined => (a !== undefined ? a : b);
  const set = <K extends keyof KubernetesRole>(k: K, v: KubernetesRole[K] | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('bound_service_account_names', f.bound_service_account_names);
  set('bound_service_account_namespaces', f.bound_service_account_namespaces);
  set('audience', f.audience);
  set('alias_name_source', f.alias_name_source);
  set('token_policies', pick(f.token_policies, f.policies));
  set('token_ttl', pick(f.token_ttl, f.ttl));
  set('token_max_ttl', pick(f.token_max_ttl, f.max_ttl));
  set('token_num_uses', pick(f.token_num_uses, f.num_uses));
  set('token_bound_cidrs', pick(f.token_bound_cidrs, f.bound_cidrs));
  set('token_no_default_policy', f.token_no_default_policy);
  set('token_period', pick(f.token_period, f.period));
  set('token_explicit_max_ttl', f.token_explicit_max_ttl);
  set('token_type', f.token_type);
  if (f.bound_service_account_namespace_selector) {
    throw invalid('bound_service_account_namespace_selector', 'namespace label selectors are not supported: list the namespaces (globs allowed) in bound_service_account_namespaces');
  }

  if (r.bound_service_account_names.length === 0) throw invalid('bound_service_account_names', '"bound_service_account_names" can not be empty');
  if (r.bound_service_account_namespaces.length === 0) throw invalid('bound_service_account_namespaces', '"bound_service_account_namespaces" can not be empty');
  for (const k of ['bound_service_account_names', 'bound_service_account_namespaces'] as const) {
    if (r[k].length > 1 && r[k].includes('*')) throw invalid(k, `can not mix "*" with values in ${k}`);
  }
  if (r.token_policies.includes('root')) throw invalid('token_policies', 'auth methods cannot create root tokens: remove "root" from token_policies');
  // Vault's tokenutil refusals, word for word: a batch token is neither stored nor renewable.
  if (issuesBatch(r) && r.token_period > 0) throw invalid('token_type', "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
  if (issuesBatch(r) && r.token_num_uses > 0) throw invalid('token_type', "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count");
  if (r.token_max_ttl > 0 && r.token_ttl > r.token_max_ttl) throw invalid('token_ttl', 'token_ttl cannot be greater than token_max_ttl');
  const warnings = ignoredFieldsWarning(Fields, data);
  if (!r.audience) {
    warnings.push('role has no audience: any token the verifier accepts (including tokens meant for the Kubernetes API server) can log in; set "audience" to a value only Arca accepts');
  }
  return { role: r, warnings };
}

/** Read shape as Vault's, with the legacy keys echoed only when non-empty. */
export function roleData(r: KubernetesRole): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...r,
    bound_service_account_namespace_selector: '',
  };
  if (r.token_period) out['period'] = r.token_period;
  if (r.token_policies.length) out['policies'] = r.token_policies;
  if (r.token_ttl) out['ttl'] = r.token_ttl;
  if (r.token_max_ttl) out['max_ttl'] = r.token_max_ttl;
  if (r.token_num_uses) out['num_uses'] = r.token_num_uses;
  if (r.token_bound_cidrs.length) out['bound_cidrs'] = r.token_bound_cidrs;
  return out;
}

/** Whether the login's client address is inside the role's bound CIDRs (no CIDRs = any). */
export function clientAllowed(r: KubernetesRole, clientAddr: string): boolean {
  return addrInCidrs(r.token_bound_cidrs, clientAddr);
}

