/**
 * The one loader of the KMS plugin .proto files (./proto), for the plugin's servers (kms-plugin/)
 * and the apiserver-side clients (k8s/encryption/). Each file is parsed once per process.
 *
 * keepCase: fields keep their proto names (key_id, runtime_name) as on the wire and in the
 * Kubernetes docs; bytes decode to Buffer; defaults are filled in so an absent field reads as "" or
 * an empty Buffer rather than undefined.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const FILES = {
  v2: fileURLToPath(new URL('./proto/kms-v2.proto', import.meta.url)),
  v1beta1: fileURLToPath(new URL('./proto/kms-v1beta1.proto', import.meta.url)),
} as const;

/** The proto package, which is also the `version` the apiserver speaks. */
export type KmsApi = keyof typeof FILES;

/** Loader options of every vendored .proto (the KMS APIs and the CSI provider API). */
export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const loaded = new Map<KmsApi, protoLoader.PackageDefinition>();

export function kmsPackage(api: KmsApi): protoLoader.PackageDefinition {
  let def = loaded.get(api);
  if (!def) {
    def = protoLoader.loadSync(FILES[api], PROTO_OPTIONS);
    loaded.set(api, def);
  }
  return def;
}

/** `<api>.KeyManagementService`, ready for grpc.Server#addService and for its methods' codecs. */
export function kmsServiceDefinition(api: KmsApi): ServiceDefinition {
  return kmsPackage(api)[`${api}.KeyManagementService`] as unknown as ServiceDefinition;
}

/** One RPC of `<api>.KeyManagementService` (path and codecs); throws if the proto has no such RPC. */
export function kmsMethod(api: KmsApi, rpc: string): protoLoader.MethodDefinition<object, object> {
  const svc = kmsPackage(api)[`${api}.KeyManagementService`] as protoLoader.ServiceDefinition;
  const m = svc[rpc];
  if (!m) throw new Error(`no method ${rpc} in ${api}.KeyManagementService`);
  return m;
}

/** One message type of `<api>`; throws if the proto has no such message. */
export function kmsMessage(api: KmsApi, name: string): protoLoader.MessageTypeDefinition<object, object> {
  const t = kmsPackage(api)[`${api}.${name}`] as protoLoader.MessageTypeDefinition<object, object> | undefined;
  if (!t || !('serialize' in t)) throw new Error(`no message ${api}.${name}`);
  return t;
}
