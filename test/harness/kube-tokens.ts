/**
 * A stand-in for the two kube-apiserver surfaces the Kubernetes auth method calls, for tests that
 * cannot start a real control plane: service-account token issuance (RS256 or ES256 keys generated
 * here, tokens shaped exactly as kubernetes-integration.md §3.1 projected and §3.2 legacy tokens),
 * OIDC discovery + JWKS (§3.4), and TokenReview (§3.3), which verifies the token with its own keys
 * (jose), intersects audiences, and refuses tokens of service accounts that were deleted or
 * recreated (UID mismatch) — the documented request/response shapes, not Kubernetes' code.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';

export type KeyAlg = 'RS256' | 'ES256';

export interface SigningKey {
  alg: KeyAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export async function newSigningKey(alg: KeyAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

export interface ProjectedToken {
  namespace: string;
  name: string;
  uid: string;
  audiences?: string[];
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Seconds relative to now. */
  iatOffset?: number;
  ttl?: number;
  issuer?: string;
  /** Overrides the header kid (unknown-kid tests). */
  kid?: string;
}

/** A kubelet-projected (bound) token, payload as the reference's example. */
export async function projectedToken(key: SigningKey, t: ProjectedToken, defaultIssuer: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) + (t.iatOffset ?? 0);
  const k8s: Record<string, unknown> = { namespace: t.namespace, serviceaccount: { name: t.name, uid: t.uid } };
  if (t.pod) k8s['pod'] = t.pod;
  if (t.node) k8s['node'] = t.node;
  return new SignJWT({ 'kubernetes.io': k8s, jti: randomUUID() })
    .setProtectedHeader({ alg: key.alg, kid: t.kid ?? key.kid })
    .setIssuer(t.issuer ?? defaultIssuer)
    .setSubject(`system:serviceaccount:${t.namespace}:${t.name}`)
    .setAudience(t.audiences ?? ['https://kubernetes.default.svc.cluster.local'])
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (t.ttl ?? 3607))
    .sign(key.privateKey);
}

/** A legacy Secret-based token: flat claims, no aud, no exp (§3.2). */
export async function legacyToken(key: SigningKey, t: { namespace: string; name: string; uid: string; secretName: string }): Promise<string> {
  return new SignJWT({
    'kubernetes.io/serviceaccount/namespace': t.namespace,
    'kubernetes.io/serviceaccount/secret.name': t.secretName,
    'kubernetes.io/serviceaccount/service-account.name': t.name,
    'kubernetes.io/serviceaccount/service-account.uid': t.uid,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer('kubernetes/serviceaccount')
    .setSubject(`system:serviceaccount:${t.namespace}:${t.name}`)
    .sign(key.privateKey);
}

export interface KubeApiServer {
  url: string;
  issuer: string;
  keys: SigningKey[];
  /** ns/name → current SA UID; delete or change an entry to emulate deletion/recreation. */
  serviceAccounts: Map<string, string>;
  /**
   * `refuse`: a token whose SA UID differs from the live SA is not authenticated (bound tokens);
   * `report-live`: authenticated, reporting the live SA's UID (lets a test exercise the verifier's own check).
   */
  uidCheck: 'refuse' | 'report-live';
  /** Bearer tokens TokenReview accepts from the reviewer. */
  reviewerTokens: Set<string>;
  /** Counters for asserting what the verifier fetched. */
  hits: { jwks: number; discovery: number; tokenReview: number };
  /** Last TokenReview request bodies (spec only, for shape assertions). */
  reviews: Array<{ token: string; audiences?: string[] }>;
  mint(t: ProjectedToken, keyIndex?: number): Promise<string>;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, v: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(v));
}

export async function startKubeApiServer(o: { algs?: KeyAlg[] } = {}): Promise<KubeApiServer> {
  const keys = await Promise.all((o.algs ?? ['RS256', 'ES256']).map((a) => newSigningKey(a)));
  const api: Omit<KubeApiServer, 'url' | 'issuer' | 'mint' | 'close'> = {
    keys, serviceAccounts: new Map(), uidCheck: 'refuse' as 'refuse' | 'report-live', reviewerTokens: new Set(), hits: { jwks: 0, discovery: 0, tokenReview: 0 }, reviews: [],
  };
  let issuer = '';
  const review = async (spec: { token: string; audiences?: string[] }) => {
    const unauth = { authenticated: false, error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' };
    for (const k of api.keys) {
      try {
        const { payload } = await jwtVerify(spec.token, k.publicJwk, { issuer, algorithms: [k.alg] });
        const aud = (Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? '']).filter((a) => a !== '');
        const wanted = spec.audiences?.length ? spec.audiences : ['https://kubernetes.default.svc.cluster.local'];
        const audiences = wanted.filter((a) => aud.includes(a));
        if (!audiences.length) return { authenticated: false, error: '[invalid bearer token, token audiences are invalid]' };
        const k8s = payload['kubernetes.io'] as { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string; uid: string } };
        const key = `${k8s.namespace}/${k8s.serviceaccount.name}`;
        const live = api.serviceAccounts.get(key);
        if (live === undefined || (api.uidCheck === 'refuse' && live !== k8s.serviceaccount.uid)) return { authenticated: false, error: '[invalid bearer token, service account UID does not match]' };
        const extra: Record<string, string[]> = {};
        if (k8s.pod) extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
        if (k8s.pod) extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
        return {
          authenticated: true,
          audiences,
          user: {
            username: `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`,
            uid: live,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${k8s.namespace}`, 'system:authenticated'],
            extra,
          },
        };
      } catch {
        // try the next key
      }
    }
    return unauth;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === '/.well-known/openid-configuration') {
        api.hits.discovery++;
        send(res, 200, { issuer, jwks_uri: `${issuer}/openid/v1/jwks`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: api.keys.map((k) => k.alg) }, { 'cache-control': 'public, max-age=3600' });
        return;
      }
      if (req.method === 'GET' && url === '/openid/v1/jwks') {
        api.hits.jwks++;
        send(res, 200, { keys: api.keys.map((k) => k.publicJwk) }, { 'cache-control': 'public, max-age=3600' });
        return;
      }
      if (req.method === 'POST' && url === '/apis/authentication.k8s.io/v1/tokenreviews') {
        api.hits.tokenReview++;
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (!bearer || !api.reviewerTokens.has(bearer)) {
          send(res, 401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
          return;
        }
        const b = (await body(req)) as { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } } | undefined;
        if (b?.apiVersion !== 'authentication.k8s.io/v1' || b.kind !== 'TokenReview' || typeof b.spec?.token !== 'string') {
          send(res, 400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'bad TokenReview', code: 400 });
          return;
        }
        const spec = { token: b.spec.token, ...(b.spec.audiences ? { audiences: b.spec.audiences } : {}) };
        api.reviews.push(spec);
        send(res, 201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec, status: await review(spec) });
        return;
      }
      send(res, 404, { kind: 'Status', status: 'Failure', code: 404 });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = url;
  // Getters/setters keep `uidCheck` shared with the request handler above.
  return {
    get uidCheck() {
      return api.uidCheck;
    },
    set uidCheck(v) {
      api.uidCheck = v;
    },
    keys: api.keys, serviceAccounts: api.serviceAccounts, reviewerTokens: api.reviewerTokens, hits: api.hits, reviews: api.reviews,
    url,
    issuer,
    mint: (t, keyIndex = 0) => projectedToken(api.keys[keyIndex]!, t, issuer),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
