/**
 * The one entry to @peculiar/x509: its dependency injection (tsyringe) needs the Reflect metadata
 * polyfill loaded first, and its crypto provider must be node's WebCrypto. Every pki module
 * imports X.509 from here so both are set before first use.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** WebCrypto types from node:crypto (the project compiles without the DOM lib). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type Algorithm = webcrypto.Algorithm;
export type EcdsaParams = webcrypto.EcdsaParams;

/** Extension OIDs, looked up by string: the class overload needs DOM types the project lacks. */
export const OID_SAN = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_SKI = '2.5.29.14';
