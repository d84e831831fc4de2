/**
 * aescbc and aesgcm value transformers (one key each) and the per-key prefix dispatch used by the
 * aescbc / aesgcm / secretbox providers (`<keyname>:`).
 */
import { type CipherGCMTypes, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import { type FromStorageResult, PrefixTransformers, type ProviderKind, type Transformer, decryptError, utf8Bytes } from './transformer.ts';

export type RandomFn = (n: number) => Uint8Array;
const defaultRandom: RandomFn = (n) => randomBytes(n);

function aesName(mode: 'cbc' | 'gcm', key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new ArcaError('ERR_CRYPTO_INVALID_KEY', `AES keys must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return `aes-${key.length * 8}-${mode}`;
}

/**
 * AES-CBC, IV(16) ‖ C with PKCS#7 padding always added. Not authenticated and the AAD is ignored:
 * Kubernetes never bound the etcd key for aescbc.
 */
export class AesCbcTransformer implements Transformer {
  private readonly algo: string;
  constructor(
    private readonly key: Uint8Array,
    private readonly random: RandomFn = defaultRandom,
  ) {
    this.algo = aesName('cbc', key);
  }

  async fromStorage(data: Uint8Array): Promise<FromStorageResult> {
    return this.fromStorageSync(data);
  }

  fromStorageSync(data: Uint8Array): FromStorageResult {
    return { plaintext: this.decrypt(data), stale: false };
  }

  decrypt(data: Uint8Array): Uint8Array {
    // Upstream panics on a 16-byte body (IV only); treat every short or misaligned body as an error.
    if (data.length < 32 || data.length % 16 !== 0) throw decryptError('aescbc: bad length');
    const d = createDecipheriv(this.algo, this.key, data.subarray(0, 16));
    d.setAutoPadding(false);
    const out = Buffer.concat([d.update(data.subarray(16)), d.final()]);
    const p = out[out.length - 1]!;
    if (p < 1 || p > 16 || p > out.length) throw decryptError('aescbc: bad padding');
    for (let i = out.length - p; i < out.length; i++) if (out[i] !== p) throw decryptError('aescbc: bad padding');
    return out.subarray(0, out.length - p);
  }

  async toStorage(plaintext: Uint8Array): Promise<Uint8Array> {
    const iv = this.random(16);
    const c = createCipheriv(this.algo, this.key, iv);
    return Buffer.concat([iv, c.update(plaintext), c.final()]);
  }
}

/** AES-GCM, nonce(12) ‖ C ‖ tag(16), AAD = etcd key. */
export class AesGcmTransformer implements Transformer {
  private readonly algo: CipherGCMTypes;
  constructor(
    private readonly key: Uint8Array,
    private readonly random: RandomFn = defaultRandom,
  ) {
    this.algo = aesName('gcm', key) as CipherGCMTypes;
  }

  async fromStorage(data: Uint8Array, aad: Uint8Array): Promise<FromStorageResult> {
    return this.fromStorageSync(data, aad);
  }

  fromStorageSync(data: Uint8Array, aad: Uint8Array): FromStorageResult {
    return { plaintext: this.open(data, aad), stale: false };
  }

  open(data: Uint8Array, aad: Uint8Array): Uint8Array {
    if (data.length < 12 + 16) throw decryptError('aesgcm: data too short');
    try {
      const d = createDecipheriv(this.algo, this.key, data.subarray(0, 12), { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(data.subarray(data.length - 16));
      const body = d.update(data.subarray(12, data.length - 16));
      // GCM is a stream mode: final() only checks the tag and returns no bytes; skip the copy.
      const tail = d.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch (err) {
      throw decryptError('aesgcm: authentication failed', err);
    }
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const c = createCipheriv(this.algo, this.key, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([nonce, body, c.getAuthTag()]);
  }

  async toStorage(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    return this.seal(this.random(12), plaintext, aad);
  }
}

export interface NamedKey {
  name: string;
  key: Uint8Array;
}

/**
 * The key level of a key-based provider: one `<name>:` prefix per key, first key writes, later keys
 * (or the same name repeated) are still tried on read; success reports the key name.
 */
export function keyedTransformer(
  kind: Exclude<ProviderKind, 'identity' | 'kms-v1' | 'kms-v2'>,
  keys: readonly NamedKey[],
  make: (key: Uint8Array) => Transformer,
): Transformer {
  const label = kind === 'secretbox' ? 'Secretbox' : 'AES';
  const entries = keys.map(({ name, key }) => {
    const inner = make(key);
    const t: Transformer = {
      async fromStorage(data, aad) {
        const r = await inner.fromStorage(data, aad);
        return { ...r, info: { kind, name } };
      },
      toStorage: (p, aad) => inner.toStorage(p, aad),
    };
    const readSync = inner.fromStorageSync?.bind(inner);
    if (readSync) t.fromStorageSync = (data, aad) => ({ ...readSync(data, aad), info: { kind, name } });
    return { prefix: utf8Bytes(`${name}:`), transformer: t };
  });
  return new PrefixTransformers(entries, () =>
    decryptError(`no matching key was found for the provided ${label} transformer`),
  );
}
