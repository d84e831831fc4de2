/**
 * KMS v1 envelope: `k8s:enc:kms:v1:<name>:` ‖ L(2, BE) ‖ EDEK(L) ‖ AES-256-GCM(DEK; nonce ‖ C ‖ tag; AAD = etcd key).
 * A fresh DEK per write. Reads fall back to AES-CBC under the same DEK (data written by ≤ 1.24),
 * which is reported stale and does not bind the etcd key.
 */
import { randomBytes } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import { AesCbcTransformer, AesGcmTransformer, type RandomFn } from './aes.ts';
import type { KmsV1Service } from './kms-service.ts';
import { Lru } from './lru.ts';
import { type FromStorageResult, type Transformer, decryptError } from './transformer.ts';

export class KmsV1Transformer implements Transformer {
  private readonly cache: Lru<Uint8Array>;

  constructor(
    private readonly name: string,
    private readonly service: KmsV1Service,
    cacheSize = 1000,
    private readonly random: RandomFn = (n) => randomBytes(n),
  ) {
    this.cache = new Lru(cacheSize);
  }

  async fromStorage(data: Uint8Array, aad: Uint8Array): Promise<FromStorageResult> {
    if (data.length < 2) throw decryptError('kms v1: missing EDEK length');
    const len = (data[0]! << 8) | data[1]!;
    if (data.length < 2 + len) throw decryptError('kms v1: EDEK length past end of data');
    const edek = data.subarray(2, 2 + len);
    const body = data.subarray(2 + len);
    const ck = Buffer.from(edek).toString('base64');
    let dek = this.cache.get(ck);
    if (!dek) {
      dek = await this.service.decrypt(edek);
      this.cache.set(ck, dek);
    }
    const info = { kind: 'kms-v1' as const, name: this.name };
    try {
      return { plaintext: new AesGcmTransformer(dek).open(body, aad), stale: false, info };
    } catch {
      // ≤ 1.24 wrote AES-CBC under the DEK; readable, but stale.
      try {
        return { plaintext: new AesCbcTransformer(dek).decrypt(body), stale: true, info };
      } catch {
        throw decryptError('kms v1: neither AES-GCM nor AES-CBC opened the value');
      }
    }
  }

  async toStorage(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const dek = this.random(32);
    const edek = await this.service.encrypt(dek);
    if (edek.length > 0xffff) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', 'kms v1 plugin returned an EDEK longer than 65535 bytes');
    this.cache.set(Buffer.from(edek).toString('base64'), dek);
    const body = new AesGcmTransformer(dek, this.random).seal(this.random(12), plaintext, aad);
    return Buffer.concat([Uint8Array.of(edek.length >> 8, edek.length & 0xff), edek, body]);
  }
}
