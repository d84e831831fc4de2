/**
 * The Kubernetes value-transformer shape: `fromStorage` turns the bytes stored in etcd back into the
 * object bytes (and says whether they are `stale`, i.e. not what the first provider would write now);
 * `toStorage` produces what gets written. `aad` is the authenticated data: the full etcd key bytes.
 */
import { ArcaError } from '../../errors/index.ts';

export type ProviderKind = 'identity' | 'aescbc' | 'aesgcm' | 'secretbox' | 'kms-v1' | 'kms-v2';

/** Which provider/key read a value; filled by the transformer that succeeded. */
export interface ProviderInfo {
  kind: ProviderKind;
  /** key name (aescbc/aesgcm/secretbox) or plugin name (kms) */
  name?: string;
  /** kms v2: key_id stored in the EncryptedObject */
  keyId?: string;
}

export interface FromStorageResult {
  plaintext: Uint8Array;
  stale: boolean;
  info?: ProviderInfo;
}

export interface Transformer {
  fromStorage(data: Uint8Array, aad: Uint8Array): Promise<FromStorageResult>;
  toStorage(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /**
   * Present when reading needs no I/O (local-key providers, identity, and prefix dispatch over only
   * such transformers): the same result or error as `fromStorage`, synchronously, so bulk readers
   * (`etcd scan`) skip a promise per layer.
   */
  fromStorageSync?(data: Uint8Array, aad: Uint8Array): FromStorageResult;
}

export interface PrefixEntry {
  prefix: Uint8Array;
  transformer: Transformer;
}

export function hasPrefix(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** The one message every decryption failure carries; reasons stay in `details` for debug output. */
export const DECRYPT_FAILED = 'value could not be decrypted with any configured provider';

export function decryptError(reason: string, cause?: unknown): ArcaError {
  return new ArcaError('ERR_TRANSFORM_DECRYPT', DECRYPT_FAILED, { details: { reason }, cause });
}

/**
 * Prefix dispatch, exactly as `value.NewPrefixTransformers`: on read, try every entry whose prefix
 * matches, in order; an error from a prefixed entry is remembered and the next matching entry is
 * still tried (two providers or two keys can share a prefix); errors of an empty-prefix entry
 * (identity) are ignored. Success from entry i returns stale ||= i != 0. Writes use entry 0.
 */
export class PrefixTransformers implements Transformer {
  readonly fromStorageSync?: (data: Uint8Array, aad: Uint8Array) => FromStorageResult;

  constructor(
    private readonly entries: readonly PrefixEntry[],
    private readonly noMatch: () => ArcaError,
  ) {
    if (entries.length === 0) throw new ArcaError('ERR_ENCCONFIG_INVALID', 'at least one provider is required');
    if (entries.every((e) => e.transformer.fromStorageSync)) this.fromStorageSync = (data, aad) => this.#readSync(data, aad);
  }

  async fromStorage(data: Uint8Array, aad: Uint8Array): Promise<FromStorageResult> {
    if (this.fromStorageSync) return this.fromStorageSync(data, aad);
    const errors: unknown[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!hasPrefix(data, e.prefix)) continue;
      try {
        const r = await e.transformer.fromStorage(data.subarray(e.prefix.length), aad);
        return { ...r, stale: r.stale || i !== 0 };
      } catch (err) {
        if (e.prefix.length === 0) continue;
        errors.push(err);
      }
    }
    throw this.#failure(errors);
  }

  #readSync(data: Uint8Array, aad: Uint8Array): FromStorageResult {
    const errors: unknown[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!hasPrefix(data, e.prefix)) continue;
      try {
        const r = e.transformer.fromStorageSync!(data.subarray(e.prefix.length), aad);
        return { ...r, stale: r.stale || i !== 0 };
      } catch (err) {
        if (e.prefix.length === 0) continue;
        errors.push(err);
      }
    }
    throw this.#failure(errors);
  }

  /** What to throw when no matching entry could read the value. */
  #failure(errors: unknown[]): unknown {
    if (errors.length === 1 && errors[0] instanceof ArcaError) return errors[0];
    if (errors.length > 0) {
      const first = errors.find((x) => x instanceof ArcaError && x.code !== 'ERR_TRANSFORM_DECRYPT');
      if (first instanceof ArcaError) return first;
      return decryptError(`${errors.length} matching providers failed`, errors[0]);
    }
    return this.noMatch();
  }

  async toStorage(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const e = this.entries[0]!;
    const out = await e.transformer.toStorage(plaintext, aad);
    return Buffer.concat([e.prefix, out]);
  }
}

const ENC_PREFIX = new TextEncoder().encode('k8s:enc:');

/** identity: writes plaintext; reads anything that does not start with `k8s:enc:`. */
export const identityTransformer: Transformer = {
  async fromStorage(data) {
    return readIdentity(data);
  },
  fromStorageSync: (data) => readIdentity(data),
  async toStorage(plaintext) {
    return plaintext;
  },
};

function readIdentity(data: Uint8Array): FromStorageResult {
  if (hasPrefix(data, ENC_PREFIX)) throw decryptError('identity transformer tried to read encrypted data');
  return { plaintext: data, stale: false, info: { kind: 'identity' } };
}

export function isEncrypted(data: Uint8Array): boolean {
  return hasPrefix(data, ENC_PREFIX);
}

export const utf8Bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
