/**
 * TokenReview (`POST /apis/authentication.k8s.io/v1/tokenreviews`, kubernetes-integration.md §3.3):
 * the API server checks the signature and that the SA/pod/secret still exist (the only path that
 * gives revocation). Results are not cached: a deleted pod's token must fail on its next login.
 *
 * The reviewer's bearer token is read from its file on every call (a projected token is rotated by
 * the kubelet; a copy taken at config time breaks logins within the hour — the Kubernetes 1.21
 * failure behind many Vault issues).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { SA_PREFIX, type ServiceAccountIdentity } from './claims.ts';
import type { KubernetesConfig } from './config.ts';
import { requestJson, unavailable } from './http-json.ts';

/** Where a pod's own service-account token and cluster CA are mounted. */
export const LOCAL_SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const Review = z.object({
  status: z
    .object({
      authenticated: z.boolean().optional(),
      error: z.string().optional(),
      audiences: z.array(z.string()).optional(),
      user: z.object({ username: z.string().optional(), uid: z.string().optional() }).optional(),
    })
    .optional(),
});

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** The bearer for TokenReview: configured JWT, its file, Arca's own in-cluster token, or the client's JWT. */
async function reviewerToken(c: KubernetesConfig, clientJwt: string): Promise<string> {
  if (c.token_reviewer_jwt) return c.token_reviewer_jwt;
  if (c.token_reviewer_jwt_file) {
    const t = await readOptional(c.token_reviewer_jwt_file);
    if (!t) throw unavailable('TokenReview', 'token_reviewer_jwt_file cannot be read or is empty');
    return t;
  }
  if (!c.disable_local_ca_jwt) {
    const t = await readOptional(`${LOCAL_SA_DIR}/token`);
    if (t) return t;
  }
  return clientJwt;
}

async function caFor(c: KubernetesConfig): Promise<string> {
  if (c.kubernetes_ca_cert) return c.kubernetes_ca_cert;
  if (!c.disable_local_ca_jwt) return (await readOptional(`${LOCAL_SA_DIR}/ca.crt`)) ?? '';
  return '';
}

function denied(why: string): ArcaError {
  return new ArcaError('ERR_K8S_AUTH_TOKENREVIEW_DENIED', `TokenReview denied the token: ${why}`);
}

/**
 * Reviews `jwt` and checks the answer against the identity read from its claims. `audiences` are
 * the role's audience (or the token's own `aud` when the role has none).
 */
export async function tokenReview(c: KubernetesConfig, jwt: string, audiences: string[], id: ServiceAccountIdentity): Promise<void> {
  const r = await requestJson({
    method: 'POST',
    url: `${c.kubernetes_host}/apis/authentication.k8s.io/v1/tokenreviews`,
    ca: await caFor(c),
    bearer: await reviewerToken(c, jwt),
    what: 'TokenReview',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: jwt, ...(audiences.length ? { audiences } : {}) } },
  });
  if (r.status === 401 || r.status === 403) {
    throw unavailable('TokenReview', `the API server refused the reviewer (HTTP ${r.status}): give the reviewer's service account the system:auth-delegator ClusterRole and check token_reviewer_jwt`);
  }
  const parsed = Review.safeParse(r.body);
  if (r.status !== 200 && r.status !== 201) throw unavailable('TokenReview', `the API server answered HTTP ${r.status}`);
  if (!parsed.success || !parsed.data.status) throw unavailable('TokenReview', 'the API server answered without a TokenReview status');
  const s = parsed.data.status;
  // status.error with authenticated:false means "could not be checked / invalid": not authenticated either way.
  if (s.authenticated !== true) throw denied('not authenticated (the token is invalid, expired, or its pod or service account was deleted)');
  if (audiences.length && !(s.audiences ?? []).some((a) => audiences.includes(a))) throw denied("the reviewed audiences do not include the role's audience");
  if (s.user?.username !== `${SA_PREFIX}${id.namespace}:${id.name}`) throw denied('the reviewed user is not the service account named in the token');
  if (s.user?.uid !== id.uid) throw denied("the service account's UID differs from the token's (was it deleted and recreated?)");
}
