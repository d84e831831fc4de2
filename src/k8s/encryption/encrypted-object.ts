/**
 * KMS v2 `EncryptedObject` (k8s.io/apiserver/.../envelope/kmsv2/v2/api.proto, package v2), the body
 * of a `k8s:enc:kms:v2:<name>:` value, with the validation the apiserver applies on write and read.
 */
import { ArcaError } from '../../errors/index.ts';
import { WireWriter, decodeUtf8, readFields } from './protowire.ts';

export const AES_GCM_KEY = 0;
export const HKDF_SHA256_XNONCE_AES_GCM_SEED = 1;

export interface EncryptedObject {
  encryptedData: Uint8Array;
  keyId: string;
  encryptedDekSource: Uint8Array;
  annotations: Record<string, Uint8Array>;
  /** 0 AES_GCM_KEY (absent on the wire), 1 HKDF_SHA256_XNONCE_AES_GCM_SEED */
  encryptedDekSourceType: number;
}

function invalid(msg: string): ArcaError {
  return new ArcaError('ERR_KMS_PLUGIN_RESPONSE', msg);
}

export function decodeEncryptedObject(buf: Uint8Array): EncryptedObject {
  const o: EncryptedObject = {
    encryptedData: new Uint8Array(0),
    keyId: '',
    encryptedDekSource: new Uint8Array(0),
    annotations: {},
    encryptedDekSourceType: 0,
  };
  for (const f of readFields(buf)) {
    if (f.num === 1 && f.bytes) o.encryptedData = f.bytes;
    else if (f.num === 2 && f.bytes) o.keyId = decodeUtf8(f.bytes, 'keyID');
    else if (f.num === 3 && f.bytes) o.encryptedDekSource = f.bytes;
    else if (f.num === 4 && f.bytes) {
      let k = '';
      let v: Uint8Array = new Uint8Array(0);
      for (const e of readFields(f.bytes)) {
        if (e.num === 1 && e.bytes) k = decodeUtf8(e.bytes, 'annotation key');
        else if (e.num === 2 && e.bytes) v = e.bytes;
      }
      o.annotations[k] = v;
    } else if (f.num === 5 && f.varint !== undefined) o.encryptedDekSourceType = Number(BigInt.asIntN(32, f.varint));
  }
  return o;
}

/** Fields in number order, zero values omitted, annotations sorted (Go's deterministic marshal). */
export function encodeEncryptedObject(o: EncryptedObject): Uint8Array {
  const w = new WireWriter();
  if (o.encryptedData.length) w.bytes(1, o.encryptedData);
  if (o.keyId) w.string(2, o.keyId);
  if (o.encryptedDekSource.length) w.bytes(3, o.encryptedDekSource);
  for (const k of Object.keys(o.annotations).sort()) {
    const entry = new WireWriter().string(1, k).bytes(2, o.annotations[k]!).finish();
    w.bytes(4, entry);
  }
  if (o.encryptedDekSourceType !== 0) w.varint(5, o.encryptedDekSourceType);
  return w.finish();
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** FQDN check of annotation keys: lowercase RFC 1123 subdomain with at least two labels. */
export function isFqdn(name: string): boolean {
  const s = name.endsWith('.') ? name.slice(0, -1) : name;
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => l.length <= 63 && LABEL.test(l));
}

export function validateKeyId(keyId: string): void {
  if (keyId.length === 0) throw invalid('keyID is empty');
  if (Buffer.byteLength(keyId) > 1024) throw invalid('keyID is longer than 1024 bytes');
}

export function validateAnnotations(a: Record<string, Uint8Array>): void {
  let total = 0;
  for (const [k, v] of Object.entries(a)) {
    if (!isFqdn(k)) throw invalid(`annotation key "${k}" is not a fully qualified domain name`);
    total += Buffer.byteLength(k) + v.length;
  }
  if (total > 32 * 1024) throw invalid('annotations exceed 32 KiB');
}

/** ValidateEncryptedObject of the apiserver. */
export function validateEncryptedObject(o: EncryptedObject): void {
  if (o.encryptedDekSourceType !== AES_GCM_KEY && o.encryptedDekSourceType !== HKDF_SHA256_XNONCE_AES_GCM_SEED) {
    throw invalid(`unknown encryptedDEKSourceType ${o.encryptedDekSourceType}`);
  }
  if (o.encryptedData.length === 0) throw invalid('encrypted data is empty');
  if (o.encryptedDekSource.length === 0) throw invalid('encrypted DEK source is empty');
  if (o.encryptedDekSource.length > 1024) throw invalid('encrypted DEK source is longer than 1024 bytes');
  validateKeyId(o.keyId);
  validateAnnotations(o.annotations);
}
