/**
 * `auth/<mount>/config`: where and how service-account tokens are verified. Vault's fields
 * (vault-plugin-auth-kubernetes `path_config.go`) plus Arca's `verification` mode and JWKS source.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsResponse, parseFields, vBool, vDuration, vStringList } from '../fields.ts';

export type Verification = 'tokenreview' | 'jwks' | 'both';

export interface KubernetesConfig {
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  token_reviewer_jwt: string;
  /** Read on every TokenReview, so a rotated projected token never breaks logins. */
  token_reviewer_jwt_file: string;
  pem_keys: string[];
  issuer: string;
  disable_iss_validation: boolean;
  disable_local_ca_jwt: boolean;
  /** Explicit mode; '' = derived (see effectiveVerification). */
  verification: Verification | '';
  jwks_url: string;
  oidc_discovery_url: string;
  /** CA for jwks_url / oidc_discovery_url; defaults to kubernetes_ca_cert. */
  jwks_ca_pem: string;
  /** An unknown `kid` refetches the JWKS at most once per this many seconds. */
  jwks_min_refresh_seconds: number;
}

/** Seconds; a minimum below 1 s would let unknown-kid tokens drive a fetch per login. */
const MIN_REFRESH = { min: 1, max: 3600, dflt: 10 };

function isPem(s: string, kind: 'cert' | 'key'): boolean {
  try {
    if (kind === 'cert') new X509Certificate(s);
    else createPublicKey(s);
    return true;
  } catch {
    return false;
  }
}

function url(field: string) {
  return z.string().refine((s) => s === '' || /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(s.replace(/\/+$/, '')), `${field} must be an http(s) URL without query or fragment`);
}

const Fields = z.object({
  kubernetes_host: url('kubernetes_host').optional(),
  kubernetes_ca_cert: z.string().refine((s) => s === '' || isPem(s, 'cert'), 'kubernetes_ca_cert must be a PEM certificate').optional(),
  token_reviewer_jwt: z.string().max(16384, 'token_reviewer_jwt is longer than 16384 bytes').optional(),
  token_reviewer_jwt_file: z.string().refine((s) => s === '' || s.startsWith('/'), 'token_reviewer_jwt_file must be an absolute path').optional(),
  pem_keys: z.union([z.array(z.string()), z.string()]).transform((v) => (Array.isArray(v) ? v : splitPems(v))).optional(),
  issuer: z.string().max(2048).optional(),
  disable_iss_validation: vBool.optional(),
  disable_local_ca_jwt: vBool.optional(),
  verification: z.enum(['tokenreview', 'jwks', 'both', '']).optional(),
  jwks_url: url('jwks_url').optional(),
  oidc_discovery_url: url('oidc_discovery_url').optional(),
  jwks_ca_pem: z.string().refine((s) => s === '' || isPem(s, 'cert'), 'jwks_ca_pem must be a PEM certificate').optional(),
  jwks_min_refresh_seconds: vDuration
    .refine((n) => n >= MIN_REFRESH.min && n <= MIN_REFRESH.max, `jwks_min_refresh_seconds must be between ${MIN_REFRESH.min} and ${MIN_REFRESH.max} seconds`)
    .optional(),
});

/**
 * Vault accepts pem_keys as a comma-separated string; a file of concatenated PEM blocks (what
 * `@keys.pem` in the CLI sends) is split on the block boundaries. PEM bodies contain no commas.
 */
function splitPems(s: string): string[] {
  const blocks = s.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g);
  return blocks && blocks.length > 1 ? blocks : vStringList.parse(s);
}

export const EMPTY_CONFIG: KubernetesConfig = {
  kubernetes_host: '', kubernetes_ca_cert: '', token_reviewer_jwt: '', token_reviewer_jwt_file: '', pem_keys: [],
  issuer: '', disable_iss_validation: false, disable_local_ca_jwt: false, verification: '', jwks_url: '',
  oidc_discovery_url: '', jwks_ca_pem: '', jwks_min_refresh_seconds: MIN_REFRESH.dflt,
};

/** A config write's answer: Vault's warning naming the body fields it ignored, if any. */
export function configWarnings(data: Record<string, unknown>) {
  return ignoredFieldsResponse(Fields, data);
}

/** Applies a config write over the current config (Vault's config write replaces; we keep unspecified fields). */
export function parseConfig(data: Record<string, unknown>, current: KubernetesConfig | undefined): KubernetesConfig {
  const f = parseFields(Fields, data);
  const out: KubernetesConfig = { ...(current ?? EMPTY_CONFIG) };
  for (const [k, v] of Object.entries(f)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  out.kubernetes_host = out.kubernetes_host.replace(/\/+$/, '');
  for (const [i, k] of out.pem_keys.entries()) {
    if (!isPem(k, 'key')) throw new ArcaError('ERR_INVALID_REQUEST', `pem_keys[${i}] is not a PEM public key (or certificate)`, { details: { field: 'pem_keys' } });
  }
  if (out.token_reviewer_jwt && out.token_reviewer_jwt_file) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'set token_reviewer_jwt or token_reviewer_jwt_file, not both', { details: { field: 'token_reviewer_jwt_file' } });
  }
  if (out.jwks_url && out.oidc_discovery_url) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'set jwks_url or oidc_discovery_url, not both', { details: { field: 'jwks_url' } });
  }
  if (out.jwks_url && out.pem_keys.length) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'set pem_keys or jwks_url/oidc_discovery_url, not both', { details: { field: 'pem_keys' } });
  }
  if (out.oidc_discovery_url && out.pem_keys.length) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'set pem_keys or jwks_url/oidc_discovery_url, not both', { details: { field: 'pem_keys' } });
  }
  const mode = effectiveVerification(out);
  if (mode === undefined) throw new ArcaError('ERR_INVALID_REQUEST', 'no host provided: set kubernetes_host (TokenReview) and/or pem_keys, jwks_url or oidc_discovery_url (JWKS)', { details: { field: 'kubernetes_host' } });
  if (mode !== 'jwks' && !out.kubernetes_host) throw new ArcaError('ERR_INVALID_REQUEST', `verification "${mode}" needs kubernetes_host for TokenReview`, { details: { field: 'kubernetes_host' } });
  if (mode !== 'tokenreview' && !hasKeySource(out)) throw new ArcaError('ERR_INVALID_REQUEST', `verification "${mode}" needs pem_keys, jwks_url or oidc_discovery_url`, { details: { field: 'verification' } });
  return out;
}

export function hasKeySource(c: KubernetesConfig): boolean {
  return c.pem_keys.length > 0 || c.jwks_url !== '' || c.oidc_discovery_url !== '';
}

/** Default as Vault does with pem_keys: both checks when keys and a host are configured, else the one configured. */
export function effectiveVerification(c: KubernetesConfig): Verification | undefined {
  if (c.verification) return c.verification;
  const keys = hasKeySource(c);
  if (keys && c.kubernetes_host) return 'both';
  if (keys) return 'jwks';
  if (c.kubernetes_host) return 'tokenreview';
  return undefined;
}

/** The read shape: the reviewer JWT itself is never returned. */
export function configData(c: KubernetesConfig): Record<string, unknown> {
  const { token_reviewer_jwt, ...rest } = c;
  return { ...rest, token_reviewer_jwt_set: token_reviewer_jwt !== '', verification: effectiveVerification(c) ?? '' };
}
