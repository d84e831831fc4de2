/**
 * Service-account JWT checks, all through `jose` (no hand-written JWT parsing): an allow-list of
 * asymmetric algorithms (so `none` and HS* — e.g. HS256 keyed with the public key — never verify),
 * key selection by `kid`, `iss` exact when known, `aud` must contain the role's audience, `exp`/`nbf`
 * with a small leeway. Each refusal says which check failed, never the token.
 */
import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify, type JWTVerifyOptions } from 'jose';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { KeySource } from './key-source.ts';

export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];
/** Clock skew tolerated on exp/nbf (Vault's JWT method defaults to 60 s as well). */
export const LEEWAY_SECONDS = 60;

export interface ClaimChecks {
  issuer: string;
  audience: string;
  nowSec: number;
}

function rejected(why: string): ArcaError {
  return new ArcaError('ERR_K8S_AUTH_JWT_INVALID', `service-account token rejected: ${why}`);
}

/** jose's error → the reason shown to the client (and in the audit entry). */
function reason(err: unknown): ArcaError {
  if (isArcaError(err)) return err;
  if (err instanceof errors.JWTExpired) return rejected('it has expired (exp is in the past)');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return rejected('it is not valid yet (nbf is in the future)');
      case 'aud':
        return rejected("wrong audience: aud does not contain the role's audience");
      case 'iss':
        return rejected('wrong issuer: iss does not equal the configured issuer');
      case 'iat':
        return rejected('iat is not a valid time');
      default:
        return rejected(`the "${err.claim}" claim is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return rejected(`its algorithm is not allowed (allowed: ${ALLOWED_ALGS.join(', ')})`);
  if (err instanceof errors.JWKSNoMatchingKey) return rejected('no verification key matches its kid');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return rejected('several verification keys match and none verified it');
  if (err instanceof errors.JWSSignatureVerificationFailed) return rejected('the signature does not verify');
  return rejected('it is not a well-formed signed JWT');
}

function options(c: ClaimChecks): JWTVerifyOptions {
  const o: JWTVerifyOptions = { algorithms: ALLOWED_ALGS, clockTolerance: LEEWAY_SECONDS, currentDate: new Date(c.nowSec * 1000) };
  if (c.issuer) o.issuer = c.issuer;
  if (c.audience) o.audience = c.audience;
  return o;
}

/** Verifies signature and claims with the key source; returns the payload. */
export async function verifySigned(jwt: string, keys: KeySource, c: ClaimChecks): Promise<JWTPayload> {
  const opts = options(c);
  if (!Array.isArray(keys.getKey)) {
    try {
      return (await jwtVerify(jwt, keys.getKey, opts)).payload;
    } catch (err) {
      throw reason(err);
    }
  }
  // Fixed PEM keys carry no kid (as Vault's pem_keys): the first key that verifies wins.
  let last: unknown = new errors.JWSSignatureVerificationFailed();
  for (const k of keys.getKey as KeyObject[]) {
    try {
      return (await jwtVerify(jwt, k, opts)).payload;
    } catch (err) {
      last = err;
      // A claim failure is the same under every key; only signature/key mismatches try the next one.
      if (!(err instanceof errors.JWSSignatureVerificationFailed) && !(err instanceof TypeError) && !(err instanceof errors.JOSENotSupported)) break;
    }
  }
  throw reason(last instanceof TypeError || last instanceof errors.JOSENotSupported ? new errors.JWSSignatureVerificationFailed() : last);
}

/**
 * TokenReview-only mode: the API server verifies the signature. The claims are still decoded (with
 * jose) and pre-checked here so an expired or wrong-audience token is refused with its reason and
 * without a round trip.
 */
export function decodeUnverified(jwt: string, c: ClaimChecks): JWTPayload {
  let payload: JWTPayload;
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(jwt).alg;
    payload = decodeJwt(jwt);
  } catch (err) {
    throw reason(err);
  }
  if (typeof alg !== 'string' || !ALLOWED_ALGS.includes(alg)) throw reason(new errors.JOSEAlgNotAllowed('alg'));
  if (typeof payload.exp === 'number' && payload.exp + LEEWAY_SECONDS <= c.nowSec) throw rejected('it has expired (exp is in the past)');
  if (typeof payload.nbf === 'number' && payload.nbf - LEEWAY_SECONDS > c.nowSec) throw rejected('it is not valid yet (nbf is in the future)');
  if (c.issuer && payload.iss !== c.issuer) throw rejected('wrong issuer: iss does not equal the configured issuer');
  if (c.audience) {
    const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!aud.includes(c.audience)) throw rejected("wrong audience: aud does not contain the role's audience");
  }
  return payload;
}
