import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import * as client from 'openid-client';
import { isArcaError } from '../../errors/index.ts';
import { CLOCK_TOLERANCE_SECONDS } from './engine.ts';
import { callbackRefusal } from './refusal.ts';

const ISSUER = 'https://op.example.test';
const CODE = 'authz-code-do-not-echo-7f3a';
const own = await generateKeyPair('RS256');
const other = await generateKeyPair('RS256');
const now = Math.floor(Date.now() / 1000);
const valid: JWTPayload = { iss: ISSUER, aud: 'arca', sub: 'kim', iat: now, exp: now + 300, nonce: 'nonce-1' };
const sign = (claims: JWTPayload, key = own.privateKey, kid = 'k1') => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);

/** What jose's check (as the engine calls it) throws for this token, against a key set holding only `own`'s public key as kid k1. */
async function joseError(token: string): Promise<unknown> {
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(own.publicKey)), kid: 'k1', alg: 'RS256' }] });
  try {
    await jwtVerify(token, jwks, { issuer: ISSUER, audience: 'arca', clockTolerance: CLOCK_TOLERANCE_SECONDS });
  } catch (err) {
    return err;
  }
  throw new Error('the token verified');
}

/** What openid-client's code redemption throws when the token endpoint answers `status` and `body` (a custom fetch: no network). */
async function grantError(status: number, body: Record<string, unknown>): Promise<unknown> {
  const cfg = new client.Configuration({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` }, 'arca', { client_secret: 'arca-secret', [client.clockTolerance]: CLOCK_TOLERANCE_SECONDS });
  cfg[client.customFetch] = async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  try {
    await client.authorizationCodeGrant(cfg, new URL(`https://app.example.test/cb?code=${CODE}&state=state-1`), {
      pkceCodeVerifier: 'v'.repeat(43), expectedState: 'state-1', expectedNonce: 'nonce-1', idTokenExpected: true,
    });
  } catch (err) {
    return err;
  }
  throw new Error('the code was redeemed');
}
const answered = async (claims: JWTPayload) => grantError(200, { access_token: 'at-1', token_type: 'bearer', id_token: await sign(claims) });

/** The refusal's message, after checking it keeps the one code and quotes none of `secrets`. */
function refusal(err: unknown, ...secrets: string[]): string {
  const r = callbackRefusal(err);
  assert.ok(isArcaError(r, 'ERR_OIDC_LOGIN_FAILED'), String(r));
  for (const s of [CODE, ...secrets]) assert.ok(!r.message.includes(s), `the message quotes ${s.slice(0, 12)}…`);
  return r.message;
}

describe('OIDC callback refusals', () => {
  it('an expired ID token: the same reason from openid-client (on redemption) and from jose', async () => {
    const expired = { ...valid, iat: now - 600, exp: now - 300 };
    const token = await sign(expired);
    assert.equal(refusal(await answered(expired), token), 'OIDC login failed: the ID token has expired (exp is in the past)');
    assert.equal(refusal(await joseError(token), token), 'OIDC login failed: the ID token has expired (exp is in the past)');
  });

  it('an ID token not valid yet', async () => {
    const early = { ...valid, nbf: now + 600 };
    assert.equal(refusal(await answered(early)), 'OIDC login failed: the ID token is not valid yet (nbf is in the future)');
    assert.equal(refusal(await joseError(await sign(early))), 'OIDC login failed: the ID token is not valid yet (nbf is in the future)');
  });

  it('a signature by another key under the published kid, and a kid the provider does not publish', async () => {
    const forged = await sign(valid, other.privateKey);
    assert.equal(refusal(await joseError(forged), forged), "OIDC login failed: the ID token signature does not verify against the provider's published keys");
    const unknownKid = await sign(valid, other.privateKey, 'k2');
    assert.equal(refusal(await joseError(unknownKid), unknownKid), "OIDC login failed: no key the provider publishes matches the ID token's kid");
  });

  it("another login's nonce, another issuer, another audience", async () => {
    assert.equal(refusal(await answered({ ...valid, nonce: 'nonce-2' }), 'nonce-2'), 'OIDC login failed: the ID token nonce does not match this login');
    assert.equal(refusal(await answered({ ...valid, iss: 'https://evil.example.test' })), "OIDC login failed: wrong issuer: the ID token iss is not the provider's issuer");
    assert.equal(refusal(await answered({ ...valid, aud: 'someone-else' }), 'someone-else'), 'OIDC login failed: wrong audience: the ID token aud does not contain the client id');
    assert.equal(refusal(await joseError(await sign({ ...valid, aud: 'someone-else' })), 'someone-else'), 'OIDC login failed: wrong audience: the ID token aud does not contain the client id');
  });

  it('the token endpoint refusing the code: its OAuth error code, never its description; a 5xx by status', async () => {
    const desc = 'grant request is invalid for code authz-code-do-not-echo-7f3a';
    assert.equal(refusal(await grantError(400, { error: 'invalid_grant', error_description: desc }), desc), 'OIDC login failed: the provider refused to redeem the authorization code (invalid_grant)');
    // An "error" that is no OAuth error code is left out.
    assert.equal(refusal(await grantError(400, { error: `bad ${CODE}` })), 'OIDC login failed: the provider refused to redeem the authorization code');
    assert.equal(refusal(await grantError(500, { error: 'server_error' })), "OIDC login failed: the provider's token endpoint answered HTTP 500");
  });

  it('anything else: the generic reason', () => {
    assert.equal(refusal(new Error(`unexpected ${CODE}`)), 'OIDC login failed: the provider response did not validate');
  });
});
