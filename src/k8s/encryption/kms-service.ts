/**
 * What the transformers need from a KMS plugin. The crypto core calls only these interfaces; the
 * gRPC clients in kms-grpc.ts implement them over the plugin's unix socket, tests may inject others.
 */
export interface KmsV1Service {
  /** Encrypt a DEK (v1beta1 Encrypt). */
  encrypt(plain: Uint8Array): Promise<Uint8Array>;
  /** Decrypt an EDEK (v1beta1 Decrypt). */
  decrypt(cipher: Uint8Array): Promise<Uint8Array>;
  close?(): void;
}

export interface KmsV2Status {
  version: string;
  healthz: string;
  keyId: string;
}

export interface KmsV2EncryptResponse {
  ciphertext: Uint8Array;
  keyId: string;
  annotations: Record<string, Uint8Array>;
}

export interface KmsV2DecryptRequest {
  ciphertext: Uint8Array;
  uid: string;
  keyId: string;
  annotations: Record<string, Uint8Array>;
}

export interface KmsV2Service {
  status(): Promise<KmsV2Status>;
  encrypt(plaintext: Uint8Array, uid: string): Promise<KmsV2EncryptResponse>;
  decrypt(req: KmsV2DecryptRequest): Promise<Uint8Array>;
  close?(): void;
}
