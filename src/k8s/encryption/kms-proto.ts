/** Loads the KMS plugin .proto files (src/grpc/proto) with @grpc/proto-loader. */
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const KMS_PROTO_FILES = {
  v2: fileURLToPath(new URL('../../grpc/proto/kms-v2.proto', import.meta.url)),
  v1beta1: fileURLToPath(new URL('../../grpc/proto/kms-v1beta1.proto', import.meta.url)),
} as const;

/** keepCase so fields keep their proto names (key_id), bytes as Buffer, defaults filled in. */
export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const cache = new Map<string, protoLoader.PackageDefinition>();

export function loadKmsProto(version: keyof typeof KMS_PROTO_FILES): protoLoader.PackageDefinition {
  let def = cache.get(version);
  if (!def) {
    def = protoLoader.loadSync(KMS_PROTO_FILES[version], PROTO_OPTIONS);
    cache.set(version, def);
  }
  return def;
}

export function kmsMethod(
  version: keyof typeof KMS_PROTO_FILES,
  rpc: string,
): protoLoader.MethodDefinition<object, object> {
  const svc = loadKmsProto(version)[`${version}.KeyManagementService`] as protoLoader.ServiceDefinition | undefined;
  const m = svc?.[rpc];
  if (!m) throw new Error(`no method ${rpc} in ${version}.KeyManagementService`);
  return m;
}

export function kmsMessageType(version: keyof typeof KMS_PROTO_FILES, message: string): protoLoader.MessageTypeDefinition<object, object> {
  const t = loadKmsProto(version)[`${version}.${message}`] as protoLoader.MessageTypeDefinition<object, object> | undefined;
  if (!t || !('serialize' in t)) throw new Error(`no message ${version}.${message}`);
  return t;
}
