/**
 * `auth/<mount>/login {role, jwt}`: verify the service-account token (JWKS, TokenReview or both),
 * check the role's bindings, and ask the core to issue a token with the role's policies and the SA
 * identity as metadata (vault-plugin-auth-kubernetes `path_login.go`, kubernetes-integration.md §3.5).
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { parseFields } from '../fields.ts';
import { globMatch } from '../glob.ts';
import { checkLoginFrom, tokenIssue } from '../token-fields.ts';
import type { AuthIssue } from '../types.ts';
import { identityFromClaims, type ServiceAccountIdentity } from './claims.ts';
import { effectiveVerification, type KubernetesConfig } from './config.ts';
import type { KeySource } from './key-source.ts';
import type { KubernetesRole } from './role.ts';
import { tokenReview } from './token-review.ts';
import { decodeUnverified, verifySigned } from './verify-jwt.ts';

const LoginFields = z.object({
  role: z.string({ error: 'missing role' }).min(1, 'missing role').max(128, 'role is longer than 128 characters'),
  // Service-account tokens are 1–2 KiB; 16 KiB leaves room for large claim sets without inviting abuse.
  jwt: z.string({ error: 'missing jwt' }).min(1, 'missing jwt').max(16384, 'jwt is longer than 16384 bytes'),
});

export interface LoginDeps {
  config(): Promise<KubernetesConfig | undefined>;
  role(name: string): Promise<KubernetesRole | undefined>;
  keys(c: KubernetesConfig): KeySource;
  nowSec(): number;
}

export interface LoginInput {
  data: Record<string, unknown>;
  mountPoint: string;
  clientAddr: string;
}

function notBound(what: string): ArcaError {
  return new ArcaError('ERR_K8S_AUTH_NOT_BOUND', `${what} not authorized: the role's bound_service_account_${what === 'namespace' ? 'namespaces' : 'names'} does not match this token`);
}

/** The token's own audiences, when the role pins none (Vault does the same). */
function reviewAudiences(role: KubernetesRole, claims: Record<string, unknown>): string[] {
  if (role.audience) return [role.audience];
  const aud = claims['aud'];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/**
 * A refusal after the signature or TokenReview established who is calling: the core writes the
 * identity to the audit entry (details never reach the client), so bad logins are attributable.
 */
function withIdentity(err: unknown, role: string, id: ServiceAccountIdentity): unknown {
  if (!(err instanceof ArcaError)) return err;
  const auditMetadata = { role, service_account_name: id.name, service_account_namespace: id.namespace, service_account_uid: id.uid };
  return new ArcaError(err.code, err.message, { expose: err.expose, details: { ...err.details, auditMetadata }, cause: err.cause });
}

export async function login(d: LoginDeps, req: LoginInput): Promise<{ issue: AuthIssue; id: ServiceAccountIdentity }> {
  const f = parseFields(LoginFields, req.data);
  const cfg = await d.config();
  if (!cfg) throw new ArcaError('ERR_K8S_AUTH_NOT_CONFIGURED', `this auth mount is not configured: write ${req.mountPoint}config first`);
  const role = await d.role(f.role);
  if (!role) throw new ArcaError('ERR_K8S_AUTH_ROLE_UNKNOWN', `invalid role name: no such role on ${req.mountPoint}`);
  checkLoginFrom(role, req.clientAddr);
  const mode = effectiveVerification(cfg) ?? 'tokenreview';

  const checks = { issuer: '', audience: role.audience, nowSec: d.nowSec() };
  let claims: Record<string, unknown>;
  if (mode === 'tokenreview') {
    checks.issuer = cfg.disable_iss_validation ? '' : cfg.issuer;
    claims = decodeUnverified(f.jwt, checks);
  } else {
    const keys = d.keys(cfg);
    checks.issuer = cfg.disable_iss_validation ? '' : cfg.issuer || (await keys.issuer());
    claims = await verifySigned(f.jwt, keys, checks);
  }
  const id = identityFromClaims(claims);
  try {
    if (!role.bound_service_account_names.some((p) => globMatch(p, id.name))) throw notBound('service account name');
    if (!role.bound_service_account_namespaces.some((p) => globMatch(p, id.namespace))) throw notBound('namespace');
    if (mode !== 'jwks') await tokenReview(cfg, f.jwt, reviewAudiences(role, claims), id);
  } catch (err) {
    throw withIdentity(err, f.role, id);
  }

  const metadata: Record<string, string> = {
    role: f.role,
    service_account_name: id.name,
    service_account_namespace: id.namespace,
    service_account_secret_name: id.secretName,
    service_account_uid: id.uid,
  };
  if (id.podName !== undefined) metadata['pod_name'] = id.podName;
  if (id.podUid !== undefined) metadata['pod_uid'] = id.podUid;
  if (id.nodeName !== undefined) metadata['node_name'] = id.nodeName;
  return {
    id,
    issue: tokenIssue(role, {
      mountPoint: req.mountPoint,
      name: `${id.namespace}-${id.name}`,
      metadata,
      // Vault's default alias_name_source: the service account's uid (a recreated account is a new entity).
      alias: { name: id.uid || `${id.namespace}/${id.name}`, metadata: { service_account_namespace: id.namespace, service_account_name: id.name } },
    }),
  };
}
