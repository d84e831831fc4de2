/**
 * Vault's one-time-pad encoding of a generated root token (`sys/generate-root`): the token XORed
 * byte by byte with an OTP of the same length, in raw (unpadded) standard base64. The server encodes
 * (core/generate-root.ts); `arca operator generate-root --decode` decodes. Pure, no I/O.
 */
import { ArcaError } from '../errors/index.ts';

/** Vault's encoding of the generated token: raw (unpadded) standard base64 of OTP ⊕ token. */
export function encodeRootToken(token: string, otp: string): string {
  const t = Buffer.from(token, 'utf8');
  const o = Buffer.from(otp, 'utf8');
  if (t.length !== o.length) throw new ArcaError('ERR_INVALID_REQUEST', `the OTP must be as long as the token (${t.length} characters)`);
  return Buffer.from(t.map((b, i) => b ^ o[i]!)).toString('base64').replace(/=+$/, '');
}

/** The inverse (`vault operator generate-root -decode`), for the CLI: the token from its encoding and OTP. */
export function decodeRootToken(encoded: string, otp: string): string {
  const e = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(e)) throw new ArcaError('ERR_INVALID_REQUEST', 'the encoded token is not base64 (copy encoded_token as the last key holder received it)');
  const bytes = Buffer.from(e, 'base64');
  const o = Buffer.from(otp.trim(), 'utf8');
  if (bytes.length !== o.length) throw new ArcaError('ERR_INVALID_REQUEST', `the OTP is ${o.length} characters but the encoded token holds ${bytes.length}: use the OTP printed when this attempt started`);
  return Buffer.from(bytes.map((b, i) => b ^ o[i]!)).toString('utf8');
}
