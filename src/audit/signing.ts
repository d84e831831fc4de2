import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';

/** prev of the very first entry of a log: there is nothing before it. */
export const GENESIS_PREV = '0'.repeat(64);

/** SHA-256 hex of one log line's exact bytes (without the newline): the next entry's `prev`. */
export function lineHash(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

/** The bytes a checkpoint signs. `prev` chains to every earlier line, so this commits to the whole log so far. */
export function checkpointMessage(seq: number, time: string, prev: string): Buffer {
  return Buffer.from(`arca-audit-checkpoint/v1\n${seq}\n${time}\n${prev}`, 'utf8');
}

/**
 * The bytes a chain-restart header signs: it vouches that the break in the chain before it is the
 * server's own (it could not read or extend its chain state), not an edit. A distinct prefix, so a
 * checkpoint's signature cannot be passed off as a restart's.
 */
export function restartMessage(seq: number, time: string, prev: string): Buffer {
  return Buffer.from(`arca-audit-chain-restart/v1\n${seq}\n${time}\n${prev}`, 'utf8');
}

export interface AuditKeys {
  /** HMAC key for sensitive values (32 random bytes). */
  hmacKey: Uint8Array;
  /** Ed25519 private key, PKCS#8 DER, for signing checkpoints. */
  signingKey: Uint8Array;
}

/** Fresh per-server audit keys. The server stores them behind the barrier. */
export function generateAuditKeys(): AuditKeys {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    hmacKey: new Uint8Array(randomBytes(32)),
    signingKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })),
  };
}

export interface CheckpointSigner {
  /** Base64 SPKI DER of the public key, written in headers. */
  readonly publicKey: string;
  /** First 16 hex digits of SHA-256(SPKI DER). */
  readonly keyId: string;
  sign(message: Uint8Array): string;
}

export function keyIdOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex').slice(0, 16);
}

export function createSigner(pkcs8Der: Uint8Array): CheckpointSigner {
  let priv: KeyObject;
  try {
    priv = createPrivateKey({ key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'audit signing key is not a PKCS#8 DER key', { cause: err });
  }
  if (priv.asymmetricKeyType !== 'ed25519') throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'audit signing key must be Ed25519');
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return {
    publicKey: spki.toString('base64'),
    keyId: keyIdOf(spki),
    sign: (message) => sign(null, message, priv).toString('base64'),
  };
}

/**
 * Parses a public key given as base64 SPKI DER (what headers carry), base64 raw 32 bytes, or PEM.
 * Returns undefined when it is none of these.
 */
export function parsePublicKey(text: string): { key: KeyObject; spki: Buffer } | undefined {
  const t = text.trim();
  try {
    let key: KeyObject;
    if (t.startsWith('-----BEGIN')) key = createPublicKey(t);
    else {
      const raw = Buffer.from(t, 'base64');
      if (raw.length === 32) {
        // SPKI prefix for Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }.
        key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
      } else key = createPublicKey({ key: raw, format: 'der', type: 'spki' });
    }
    if (key.asymmetricKeyType !== 'ed25519') return undefined;
    return { key, spki: key.export({ format: 'der', type: 'spki' }) };
  } catch {
    return undefined;
  }
}

export function verifyCheckpoint(key: KeyObject, message: Uint8Array, sigB64: string): boolean {
  const sig = Buffer.from(sigB64, 'base64');
  if (sig.length !== 64) return false;
  try {
    return verify(null, message, key, sig);
  } catch {
    return false;
  }
}
