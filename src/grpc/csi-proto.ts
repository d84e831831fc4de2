/**
 * Loader of the vendored Secrets Store CSI provider API (./proto/csi-provider-v1alpha1.proto), with
 * the same options as the KMS protos (field names as on the wire, bytes as Buffer, defaults filled
 * in). Parsed once per process.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_OPTIONS } from './kms-proto.ts';

const FILE = fileURLToPath(new URL('./proto/csi-provider-v1alpha1.proto', import.meta.url));

/** `/v1alpha1.CSIDriverProvider/<Method>`, as the driver dials it. */
export const CSI_SERVICE = 'v1alpha1.CSIDriverProvider';

let loaded: protoLoader.PackageDefinition | undefined;

export function csiPackage(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(FILE, PROTO_OPTIONS);
  return loaded;
}

/** The service definition, for grpc.Server#addService and grpc.makeGenericClientConstructor. */
export function csiServiceDefinition(): ServiceDefinition {
  return csiPackage()[CSI_SERVICE] as unknown as ServiceDefinition;
}
