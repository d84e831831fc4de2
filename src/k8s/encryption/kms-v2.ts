/**
 * KMS v2: `k8s:enc:kms:v2:<name>:` ‖ protobuf(EncryptedObject). Writes use seed mode (type 1): one
 * 32-byte seed per plugin key_id, encrypted once by the plugin; each value gets a DEK =
 * HKDF-Expand(SHA-256, PRK = seed, info = 32 random bytes) and AES-256-GCM with AAD = etcd key.
 * stale = (stored key_id ≠ current key_id) || (stored type ≠ seed mode), as in the apiserver.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import { AesGcmTransformer, type RandomFn } from './aes.ts';
import {
  AES_GCM_KEY,
  type EncryptedObject,
  HKDF_SHA256_XNONCE_AES_GCM_SEED,
  decodeEncryptedObject,
  encodeEncryptedObject,
  validateAnnotations,
  validateEncryptedObject,
  validateKeyId,
} from './encrypted-object.ts';
import type { KmsV2Service } from './kms-service.ts';
import { type FromStorageResult, type Transformer, decryptError } from './transformer.ts';

/** RFC 5869 Expand only (no Extract, no salt), L = 32: one HMAC block. */
export function hkdfExpandSha256(prk: Uint8Array, info: Uint8Array): Uint8Array {
  return createHmac('sha256', prk).update(info).update(Uint8Array.of(1)).digest();
}

/** Seed-mode payload: info(32) ‖ nonce(12) ‖ C ‖ tag(16). */
export function openSeedPayload(seed: Uint8Array, data: Uint8Array, aad: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw decryptError('kms v2: seed must be 32 bytes');
  if (aad.length === 0) throw decryptError('kms v2: seed mode needs a non-empty etcd key');
  if (data.length < 32 + 12 + 16) throw decryptError('kms v2: encrypted data too short');
  const key = hkdfExpandSha256(seed, data.subarray(0, 32));
  return new AesGcmTransformer(key).open(data.subarray(32), aad);
}

export function sealSeedPayload(seed: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, random: RandomFn): Uint8Array {
  const info = random(32);
  const key = hkdfExpandSha256(seed, info);
  return Buffer.concat([info, new AesGcmTransformer(key).seal(random(12), plaintext, aad)]);
}

function u16(b: Uint8Array): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(b.length);
  return Buffer.concat([h, b]);
}

/** The apiserver's DEK/seed cache key: type ‖ len-prefixed EDEK ‖ keyID [‖ count ‖ sorted annotations]. */
export function seedCacheKey(o: EncryptedObject): string {
  const t = Buffer.alloc(4);
  t.writeUInt32BE(o.encryptedDekSourceType);
  const parts: Uint8Array[] = [t, u16(o.encryptedDekSource), u16(Buffer.from(o.keyId))];
  const keys = Object.keys(o.annotations).sort();
  if (keys.length) {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(keys.length);
    parts.push(n);
    for (const k of keys) parts.push(u16(Buffer.from(k)), u16(o.annotations[k]!));
  }
  return createHash('sha256').update(Buffer.concat(parts)).digest('hex');
}

interface WriteState {
  seed: Uint8Array;
  keyId: string;
  encryptedSeed: Uint8Array;
  annotations: Record<string, Uint8Array>;
}

export class KmsV2Transformer implements Transformer {
  private currentKeyId: Promise<string> | undefined;
  private writeState: Promise<WriteState> | undefined;
  private readonly cache = new Map<string, Uint8Array>();

  constructor(
    private readonly name: string,
    private readonly service: KmsV2Service,
    private readonly random: RandomFn = (n) => randomBytes(n),
  ) {}

  /** Status probe: healthz "ok", version v2/v2beta1, valid key_id. Resets the write seed on key_id change. */
  async refresh(): Promise<string> {
    const previous = this.currentKeyId ? await this.currentKeyId.catch(() => undefined) : undefined;
    const p = this.service.status().then((s) => {
      if (s.healthz !== 'ok') throw new ArcaError('ERR_KMS_PLUGIN_UNAVAILABLE', `kms v2 plugin "${this.name}" is not healthy`);
      if (s.version !== 'v2' && s.version !== 'v2beta1') {
        throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `kms v2 plugin "${this.name}" reported unsupported version "${s.version}"`);
      }
      validateKeyId(s.keyId);
      return s.keyId;
    });
    this.currentKeyId = p;
    p.catch(() => {
      if (this.currentKeyId === p) this.currentKeyId = undefined;
    });
    const keyId = await p;
    if (previous !== undefined && previous !== keyId) this.writeState = undefined;
    return keyId;
  }

  private keyId(): Promise<string> {
    return this.currentKeyId ?? this.refresh();
  }

  async fromStorage(data: Uint8Array, aad: Uint8Array): Promise<FromStorageResult> {
    let o: EncryptedObject;
    try {
      o = decodeEncryptedObject(data);
      validateEncryptedObject(o);
    } catch (err) {
      throw decryptError('kms v2: invalid EncryptedObject', err);
    }
    const current = await this.keyId();
    const ck = seedCacheKey(o);
    let secret = this.cache.get(ck);
    if (!secret) {
      secret = await this.service.decrypt({
        ciphertext: o.encryptedDekSource,
        uid: randomUUID(),
        keyId: o.keyId,
        annotations: o.annotations,
      });
      this.cache.set(ck, secret);
    }
    const plaintext =
      o.encryptedDekSourceType === HKDF_SHA256_XNONCE_AES_GCM_SEED
        ? openSeedPayload(secret, o.encryptedData, aad)
        : new AesGcmTransformer(secret).open(o.encryptedData, aad);
    const stale = o.keyId !== current || o.encryptedDekSourceType !== HKDF_SHA256_XNONCE_AES_GCM_SEED;
    return { plaintext, stale, info: { kind: 'kms-v2', name: this.name, keyId: o.keyId } };
  }

  private async newWriteState(): Promise<WriteState> {
    const keyId = await this.keyId();
    const seed = this.random(32);
    const r = await this.service.encrypt(seed, randomUUID());
    if (r.ciphertext.length === 0 || r.ciphertext.length > 1024) {
      throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `kms v2 plugin "${this.name}" returned a ciphertext of bad length`);
    }
    validateKeyId(r.keyId);
    validateAnnotations(r.annotations);
    if (r.keyId !== keyId) {
      throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `kms v2 plugin "${this.name}" encrypted with a key_id other than its status reports`);
    }
    const st = { seed, keyId: r.keyId, encryptedSeed: r.ciphertext, annotations: r.annotations };
    this.cache.set(
      seedCacheKey({
        encryptedData: new Uint8Array(0),
        keyId: st.keyId,
        encryptedDekSource: st.encryptedSeed,
        annotations: st.annotations,
        encryptedDekSourceType: HKDF_SHA256_XNONCE_AES_GCM_SEED,
      }),
      seed,
    );
    return st;
  }

  async toStorage(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    if (aad.length === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'kms v2 needs a non-empty etcd key as authenticated data');
    if (!this.writeState) {
      const p = this.newWriteState();
      this.writeState = p;
      p.catch(() => {
        if (this.writeState === p) this.writeState = undefined;
      });
    }
    const st = await this.writeState!;
    return encodeEncryptedObject({
      encryptedData: sealSeedPayload(st.seed, plaintext, aad, this.random),
      keyId: st.keyId,
      encryptedDekSource: st.encryptedSeed,
      annotations: st.annotations,
      encryptedDekSourceType: HKDF_SHA256_XNONCE_AES_GCM_SEED,
    });
  }
}

export { AES_GCM_KEY };
