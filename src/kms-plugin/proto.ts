/** The KMS .proto files of src/grpc/proto, loaded with @grpc/proto-loader (field names as in the proto). */
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const FILES = {
  v2: fileURLToPath(new URL('../grpc/proto/kms-v2.proto', import.meta.url)),
  v1beta1: fileURLToPath(new URL('../grpc/proto/kms-v1beta1.proto', import.meta.url)),
} as const;

export type KmsApi = keyof typeof FILES;

const OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const loaded = new Map<KmsApi, protoLoader.PackageDefinition>();

export function kmsPackage(api: KmsApi): protoLoader.PackageDefinition {
  let def = loaded.get(api);
  if (!def) {
    def = protoLoader.loadSync(FILES[api], OPTIONS);
    loaded.set(api, def);
  }
  return def;
}

export function kmsServiceDefinition(api: KmsApi): ServiceDefinition {
  return kmsPackage(api)[`${api}.KeyManagementService`] as unknown as ServiceDefinition;
}

export function kmsMessage(api: KmsApi, name: string): protoLoader.MessageTypeDefinition<object, object> {
  const t = kmsPackage(api)[`${api}.${name}`] as protoLoader.MessageTypeDefinition<object, object> | undefined;
  if (!t || !('serialize' in t)) throw new Error(`no message ${api}.${name}`);
  return t;
}
