import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../../test/harness/index.ts';
import { type KubeApiServer, newSigningKey, startKubeApiServer } from '../../../test/harness/kube-tokens.ts';
import { isArcaError } from '../../errors/index.ts';
import { RemoteKeySource } from './key-source.ts';
import { verifySigned } from './verify-jwt.ts';

const SA = { namespace: 'payments', name: 'api', uid: 'u-1', audiences: ['arca'] };

describe('remote JWKS key source', () => {
  let kube: KubeApiServer;
  before(async () => {
    kube = await startKubeApiServer();
  });
  after(async () => kube?.close());

  function source(minRefreshSeconds = 10) {
    let now = Date.now();
    const keys = new RemoteKeySource({ discoveryUrl: kube.url, ca: '', minRefreshSeconds, now: () => now });
    const verify = async (jwt: string) => verifySigned(jwt, keys, { issuer: await keys.issuer(), audience: 'arca', nowSec: Math.floor(Date.now() / 1000) });
    return { keys, verify, advance: (s: number) => (now += s * 1000) };
  }

  it('fetches once and then verifies without network I/O while the set is fresh', async () => {
    const { verify } = source();
    const before = kube.hits.jwks;
    for (let i = 0; i < 10; i++) await verify(await kube.mint(SA, i % 2));
    assert.equal(kube.hits.jwks - before, 1);
  });

  it('refetches for unknown kids at most once per refresh interval', async () => {
    const { verify, advance } = source(10);
    await verify(await kube.mint(SA));
    const before = kube.hits.jwks;
    const unknown = await kube.mint({ ...SA, kid: 'rotated-away' });
    await assert.rejects(verify(unknown), (e) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID'));
    assert.equal(kube.hits.jwks - before, 0, 'the set was fetched just now: no refetch yet');
    advance(10);
    await assert.rejects(verify(unknown), (e) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID'));
    advance(1);
    await assert.rejects(verify(unknown), (e) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID'));
    assert.equal(kube.hits.jwks - before, 1);
    advance(10);
    await assert.rejects(verify(unknown), (e) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID'));
    assert.equal(kube.hits.jwks - before, 2);
  });

  it('picks up a rotated-in signing key through the unknown-kid refresh', async () => {
    const { verify, advance } = source(10);
    await verify(await kube.mint(SA));
    kube.keys.push(await newSigningKey('ES256'));
    try {
      advance(11);
      const p = await verify(await kube.mint(SA, kube.keys.length - 1));
      assert.equal(p.sub, 'system:serviceaccount:payments:api');
    } finally {
      kube.keys.pop();
    }
  });

  it('refetches in the background from 80% of max-age, without making a login wait', async () => {
    const { verify, advance } = source(10);
    const jwt = await kube.mint(SA);
    await verify(jwt);
    const before = kube.hits.jwks;
    advance(3600 * 0.85);
    await verify(jwt);
    await waitFor('background JWKS refetch', async () => (kube.hits.jwks > before ? true : undefined));
    advance(3600 * 0.5);
    await verify(jwt);
    assert.equal(kube.hits.jwks - before, 1, 'the refetched set is valid again from its own fetch time');
  });

  it('does not trust a set beyond its max-age: refetches, and answers 503 when the endpoint is gone', async () => {
    const down = await startKubeApiServer();
    let now = Date.now();
    const keys = new RemoteKeySource({ jwksUrl: `${down.url}/openid/v1/jwks`, ca: '', minRefreshSeconds: 10, now: () => now });
    const verify = async (jwt: string) => verifySigned(jwt, keys, { issuer: '', audience: 'arca', nowSec: Math.floor(Date.now() / 1000) });
    const jwt = await down.mint(SA);
    await verify(jwt);
    now += 3601 * 1000;
    await verify(jwt);
    assert.equal(down.hits.jwks, 2);
    await down.close();
    // Within validity, an unknown kid with the endpoint down stays a plain refusal (no 503).
    now += 11 * 1000;
    await assert.rejects(verify(await down.mint({ ...SA, kid: 'other' })), (e) => isArcaError(e, 'ERR_K8S_AUTH_JWT_INVALID'));
    now += 3601 * 1000;
    await assert.rejects(verify(jwt), (e) => isArcaError(e, 'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE'));
  });
});
