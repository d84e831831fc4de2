import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { identityFromClaims } from './claims.ts';

// Shaped as kubernetes-integration.md §3.1 (projected) and §3.2 (legacy).
const PROJECTED = {
  aud: ['https://kubernetes.default.svc.cluster.local'], exp: 1767229200, iat: 1767225600, nbf: 1767225600,
  iss: 'https://oidc.cluster.example.dev', jti: '9b2f3c1d-6a7e-4f10-8e3b-5c4d2a1b0f99', sub: 'system:serviceaccount:payments:api',
  'kubernetes.io': {
    namespace: 'payments',
    node: { name: 'ip-10-0-3-17', uid: '0c3f9a4e' },
    pod: { name: 'api-7c9d8f6b5d-x2kqv', uid: '5e1d7f0a' },
    serviceaccount: { name: 'api', uid: 'a8b4c2d0' },
  },
};
const LEGACY = {
  iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:payments:api',
  'kubernetes.io/serviceaccount/namespace': 'payments',
  'kubernetes.io/serviceaccount/secret.name': 'api-token-x7k2p',
  'kubernetes.io/serviceaccount/service-account.name': 'api',
  'kubernetes.io/serviceaccount/service-account.uid': 'a8b4c2d0',
};

const invalid = (e: unknown) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID');

describe('service-account identity from claims', () => {
  it('reads a projected token, pod and node included', () => {
    assert.deepEqual(identityFromClaims(PROJECTED), {
      namespace: 'payments', name: 'api', uid: 'a8b4c2d0', secretName: '', podName: 'api-7c9d8f6b5d-x2kqv', podUid: '5e1d7f0a', nodeName: 'ip-10-0-3-17',
    });
  });

  it('reads a legacy Secret token from its flat claims', () => {
    assert.deepEqual(identityFromClaims(LEGACY), { namespace: 'payments', name: 'api', uid: 'a8b4c2d0', secretName: 'api-token-x7k2p' });
  });

  it('refuses a sub that does not name the same service account', () => {
    assert.throws(() => identityFromClaims({ ...PROJECTED, sub: 'system:serviceaccount:payments:admin' }), invalid);
    assert.throws(() => identityFromClaims({ ...LEGACY, sub: 'payments:api' }), invalid);
  });

  it('refuses tokens without service-account claims or with names that are not Kubernetes names', () => {
    assert.throws(() => identityFromClaims({ sub: 'system:serviceaccount:a:b' }), invalid);
    const bad = structuredClone(PROJECTED);
    bad['kubernetes.io'].namespace = 'Pay/ments';
    assert.throws(() => identityFromClaims({ ...bad, sub: 'system:serviceaccount:Pay/ments:api' }), invalid);
  });

  it('never throws anything but its coded error on arbitrary claims', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (claims) => {
        try {
          identityFromClaims(claims);
        } catch (e) {
          assert.ok(invalid(e));
        }
      }),
    );
  });
});
