export { DECRYPT_FAILED, KEY_LEN, NONCE_LEN, open, randomKey, seal, TAG_LEN, wipe } from './aead.ts';
export { concat, decodeB64Strict, decodeHexStrict, fromUtf8, toAccessor, toB64, toHex, utf8 } from './encoding.ts';
export { randomNonce } from './nonce.ts';
export { assertShareParams, combineShares, matchShare, shareFingerprint, splitSecret } from './shamir.ts';
export { decodeRootToken, encodeRootToken } from './root-token.ts';
