/**
 * Why an OIDC callback was refused, in words the client can act on: every refusal keeps the code
 * ERR_OIDC_LOGIN_FAILED and says which check failed (expired, signature, nonce, issuer, audience, the
 * provider refusing the code). Built from the error's class, code and claim name only: never the
 * token, the code or a claim value.
 */
import { errors } from 'jose';
import { ClientError, ResponseBodyError } from 'openid-client';
import { ArcaError } from '../../errors/index.ts';

export function loginRefused(why: string): ArcaError {
  return new ArcaError('ERR_OIDC_LOGIN_FAILED', `OIDC login failed: ${why}`);
}

const TIME_REASONS: Record<string, string> = {
  exp: 'the ID token has expired (exp is in the past)',
  nbf: 'the ID token is not valid yet (nbf is in the future)',
  iat: 'the ID token was issued too long ago (iat)',
  auth_time: 'the user authenticated at the provider too long ago (auth_time)',
};
const CLAIM_REASONS: Record<string, string> = {
  nonce: 'the ID token nonce does not match this login',
  iss: "wrong issuer: the ID token iss is not the provider's issuer",
  aud: 'wrong audience: the ID token aud does not contain the client id',
  azp: 'the ID token azp (authorized party) is not the client id',
};
/** An OAuth error code (RFC 6749 5.2) as the provider sent it, when it looks like one. */
const OAUTH_ERROR = /^[a-z0-9_.-]{1,64}$/i;

/** The claim openid-client (through oauth4webapi) names on a failed timestamp or claim check. */
function checkedClaim(err: ClientError): string | undefined {
  const detail = (err.cause as { cause?: { claim?: unknown } } | undefined)?.cause;
  return typeof detail?.claim === 'string' ? detail.claim : undefined;
}

/** The client-facing refusal for an error thrown while redeeming the code or verifying the ID token. */
export function callbackRefusal(err: unknown): ArcaError {
  if (err instanceof errors.JWTExpired) return loginRefused(TIME_REASONS['exp']!);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return loginRefused(TIME_REASONS[err.claim] ?? CLAIM_REASONS[err.claim] ?? `the ID token "${err.claim}" claim is invalid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return loginRefused("the ID token signature does not verify against the provider's published keys");
  if (err instanceof errors.JWKSNoMatchingKey) return loginRefused("no key the provider publishes matches the ID token's kid");
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return loginRefused("the ID token's signing algorithm is not supported");
  if (err instanceof ResponseBodyError) {
    const code = typeof err.error === 'string' && OAUTH_ERROR.test(err.error) ? ` (${err.error})` : '';
    return loginRefused(`the provider refused to redeem the authorization code${code}`);
  }
  if (err instanceof ClientError) {
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && err.cause instanceof Response) {
      return loginRefused(`the provider's token endpoint answered HTTP ${err.cause.status}`);
    }
    const claim = checkedClaim(err);
    if (err.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' && claim) return loginRefused(TIME_REASONS[claim] ?? `the ID token "${claim}" claim failed its time check`);
    if (err.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && claim) return loginRefused(CLAIM_REASONS[claim] ?? `the ID token "${claim}" claim does not match`);
  }
  return loginRefused('the provider response did not validate');
}
