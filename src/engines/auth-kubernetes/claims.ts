/**
 * The service-account identity inside a token's claims: bound (projected/TokenRequest) tokens carry
 * a `kubernetes.io` object, legacy Secret-based tokens flat `kubernetes.io/serviceaccount/*` claims
 * (kubernetes-integration.md §3.1, §3.2). `sub` must agree with both forms.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';

export interface ServiceAccountIdentity {
  namespace: string;
  name: string;
  uid: string;
  /** Legacy Secret-based tokens only. */
  secretName: string;
  podName?: string;
  podUid?: string;
  nodeName?: string;
}

/** DNS-1123 subdomain (namespaces, SA names): also what makes a name safe to show in a message. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const name = z.string().regex(K8S_NAME);
const ref = z.object({ name, uid: z.string().min(1).max(128) });

const Bound = z.object({
  'kubernetes.io': z.object({
    namespace: name,
    serviceaccount: ref,
    pod: ref.optional(),
    node: ref.optional(),
  }),
});

const Legacy = z.object({
  'kubernetes.io/serviceaccount/namespace': name,
  'kubernetes.io/serviceaccount/service-account.name': name,
  'kubernetes.io/serviceaccount/service-account.uid': z.string().min(1).max(128),
  'kubernetes.io/serviceaccount/secret.name': z.string().max(253).optional(),
});

export const SA_PREFIX = 'system:serviceaccount:';

function bad(why: string): ArcaError {
  return new ArcaError('ERR_K8S_AUTH_JWT_INVALID', `service-account token rejected: ${why}`);
}

export function identityFromClaims(claims: Record<string, unknown>): ServiceAccountIdentity {
  let id: ServiceAccountIdentity;
  const b = Bound.safeParse(claims);
  if (b.success) {
    const k = b.data['kubernetes.io'];
    id = { namespace: k.namespace, name: k.serviceaccount.name, uid: k.serviceaccount.uid, secretName: '' };
    if (k.pod) {
      id.podName = k.pod.name;
      id.podUid = k.pod.uid;
    }
    if (k.node) id.nodeName = k.node.name;
  } else {
    const l = Legacy.safeParse(claims);
    if (!l.success) throw bad('it carries no service-account claims (kubernetes.io or kubernetes.io/serviceaccount/*)');
    id = {
      namespace: l.data['kubernetes.io/serviceaccount/namespace'],
      name: l.data['kubernetes.io/serviceaccount/service-account.name'],
      uid: l.data['kubernetes.io/serviceaccount/service-account.uid'],
      secretName: l.data['kubernetes.io/serviceaccount/secret.name'] ?? '',
    };
  }
  if (claims['sub'] !== `${SA_PREFIX}${id.namespace}:${id.name}`) throw bad('"sub" is not system:serviceaccount:<namespace>:<name> of its own service-account claims');
  return id;
}
