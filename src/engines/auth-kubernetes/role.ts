/**
 * `auth/<mount>/role/:name`: which service accounts may log in and what token they get.
 * Field names and defaults as vault-plugin-auth-kubernetes `path_role.go`, including the deprecated
 * aliases (`policies`, `ttl`, ...) that older clients such as node-vault's examples still send.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsWarning, parseFields, vStringList } from '../fields.ts';
import { mergeTokenFields, storedTokenFields, TOKEN_FIELDS_DEFAULTS, type TokenFields, tokenFieldsData, tokenFieldsShape } from '../token-fields.ts';

export { issuesBatch, MAX_DURATION_SECONDS } from '../token-fields.ts';

export interface KubernetesRole extends TokenFields {
  bound_service_account_names: string[];
  bound_service_account_namespaces: string[];
  audience: string;
  alias_name_source: 'serviceaccount_uid' | 'serviceaccount_name';
}

const Fields = z.object({
  bound_service_account_names: vStringList.optional(),
  bound_service_account_namespaces: vStringList.optional(),
  audience: z.string().max(1024, 'audience is longer than 1024 characters').optional(),
  alias_name_source: z.enum(['serviceaccount_uid', 'serviceaccount_name'], 'alias_name_source must be serviceaccount_uid or serviceaccount_name').optional(),
  ...tokenFieldsShape,
  bound_service_account_namespace_selector: z.string().max(4096, 'bound_service_account_namespace_selector is longer than 4096 characters').optional(),
});

const EMPTY: KubernetesRole = {
  bound_service_account_names: [], bound_service_account_namespaces: [], audience: '', alias_name_source: 'serviceaccount_uid', ...TOKEN_FIELDS_DEFAULTS,
};

/** A stored role; fields added later take their defaults in roles written before them. */
export function storedRole(json: string): KubernetesRole {
  return storedTokenFields({ ...EMPTY, ...(JSON.parse(json) as Partial<KubernetesRole>) });
}

function invalid(field: string, message: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message, { details: { field } });
}

/** Parses a role write over the existing role (Vault's role write is an upsert of given fields). */
export function parseRole(data: Record<string, unknown>, current: KubernetesRole | undefined): { role: KubernetesRole; warnings: string[] } {
  const f = parseFields(Fields, data);
  const cur = current ?? EMPTY;
  const r: KubernetesRole = {
    ...mergeTokenFields(cur, f),
    bound_service_account_names: f.bound_service_account_names ?? cur.bound_service_account_names,
    bound_service_account_namespaces: f.bound_service_account_namespaces ?? cur.bound_service_account_namespaces,
    audience: f.audience ?? cur.audience,
    alias_name_source: f.alias_name_source ?? cur.alias_name_source,
  };
  if (f.bound_service_account_namespace_selector) {
    throw invalid('bound_service_account_namespace_selector', 'namespace label selectors are not supported: list the namespaces (globs allowed) in bound_service_account_namespaces');
  }

  if (r.bound_service_account_names.length === 0) throw invalid('bound_service_account_names', '"bound_service_account_names" can not be empty');
  if (r.bound_service_account_namespaces.length === 0) throw invalid('bound_service_account_namespaces', '"bound_service_account_namespaces" can not be empty');
  for (const k of ['bound_service_account_names', 'bound_service_account_namespaces'] as const) {
    if (r[k].length > 1 && r[k].includes('*')) throw invalid(k, `can not mix "*" with values in ${k}`);
  }
  const warnings = ignoredFieldsWarning(Fields, data);
  if (!r.audience) {
    warnings.push('role has no audience: any token the verifier accepts (including tokens meant for the Kubernetes API server) can log in; set "audience" to a value only Arca accepts');
  }
  return { role: r, warnings };
}

/** Read shape as Vault's: the role's own fields and the token fields (token-fields.ts). */
export function roleData(r: KubernetesRole): Record<string, unknown> {
  return {
    bound_service_account_names: r.bound_service_account_names,
    bound_service_account_namespaces: r.bound_service_account_namespaces,
    bound_service_account_namespace_selector: '',
    audience: r.audience,
    alias_name_source: r.alias_name_source,
    ...tokenFieldsData(r),
  };
}
