/** `config` and `role/:name` of the OIDC auth method (Vault's field names), parsed and range-checked. */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsResponse, parseFields, vStringList } from '../fields.ts';
import { mergeTokenFields, storedTokenFields, TOKEN_FIELDS_DEFAULTS, type TokenFields, tokenFieldsData, tokenFieldsShape } from '../token-fields.ts';

export interface OidcConfig {
  oidc_discovery_url: string;
  oidc_client_id: string;
  /** Stays inside the barrier; never read back. */
  oidc_client_secret: string;
  default_role: string;
}

export interface OidcRole extends TokenFields {
  bound_audiences: string[];
  user_claim: string;
  groups_claim: string;
  allowed_redirect_uris: string[];
  oidc_scopes: string[];
}

const url = z.string().max(2048).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');
const ConfigFields = z.object({
  oidc_discovery_url: url,
  oidc_client_id: z.string().min(1).max(512),
  oidc_client_secret: z.string().max(4096).optional(),
  default_role: z.string().max(128).optional(),
});
const RoleFields = z.object({
  bound_audiences: vStringList.optional(),
  user_claim: z.string().min(1).max(256).optional(),
  groups_claim: z.string().max(256).optional(),
  allowed_redirect_uris: vStringList.pipe(z.array(url).min(1, 'allowed_redirect_uris must list at least one URI')),
  oidc_scopes: vStringList.optional(),
  ...tokenFieldsShape,
});

/** Plain http is accepted only for a provider on the loopback interface (tests, local development). */
export function isLoopbackHttp(u: string): boolean {
  const x = new URL(u);
  return x.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(x.hostname);
}

/** Vault's ignored-fields warnings for config and role writes. */
export const oidcIgnoredFields = {
  config: (data: Record<string, unknown>) => ignoredFieldsResponse(ConfigFields, data),
  role: (data: Record<string, unknown>) => ignoredFieldsResponse(RoleFields, data),
};

export function parseOidcConfig(data: unknown): OidcConfig {
  const f = parseFields(ConfigFields, data);
  if (new URL(f.oidc_discovery_url).protocol === 'http:' && !isLoopbackHttp(f.oidc_discovery_url)) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'oidc_discovery_url must use https (plain http only on the loopback interface)', { details: { field: 'oidc_discovery_url' } });
  }
  return { oidc_discovery_url: f.oidc_discovery_url, oidc_client_id: f.oidc_client_id, oidc_client_secret: f.oidc_client_secret ?? '', default_role: f.default_role ?? '' };
}

/** A role write replaces the role (allowed_redirect_uris is required), so token fields start from the defaults. */
export function parseOidcRole(data: unknown): OidcRole {
  const f = parseFields(RoleFields, data);
  return {
    ...mergeTokenFields(TOKEN_FIELDS_DEFAULTS, f),
    bound_audiences: f.bound_audiences ?? [], user_claim: f.user_claim ?? 'sub', groups_claim: f.groups_claim ?? '',
    allowed_redirect_uris: f.allowed_redirect_uris, oidc_scopes: f.oidc_scopes ?? [],
  };
}

/** A stored role (roles written before the other token fields existed take their defaults). */
export function storedOidcRole(json: string): OidcRole {
  return storedTokenFields(JSON.parse(json) as OidcRole);
}

/** The read shape: the role's own fields, the token fields as Vault reports them, and `role_type`. */
export function oidcRoleData(r: OidcRole): Record<string, unknown> {
  return {
    bound_audiences: r.bound_audiences, user_claim: r.user_claim, groups_claim: r.groups_claim,
    allowed_redirect_uris: r.allowed_redirect_uris, oidc_scopes: r.oidc_scopes, role_type: 'oidc', ...tokenFieldsData(r),
  };
}
