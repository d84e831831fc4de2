export { seal, open, wipe, randomKey, NONCE_LEN, TAG_LEN, KEY_LEN, DECRYPT_FAILED } from './aead.ts';
export { utf8, fromUtf8, toB64, toHex, concat, decodeB64Strict, decodeHexStrict } from './encoding.ts';
export { splitSecret, combineShares, shareFingerprint, matchShare, assertShareParams } from './shamir.ts';
