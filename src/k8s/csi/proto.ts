/**
 * Loads the vendored Secrets Store CSI provider API (src/grpc/proto/csi-provider-v1alpha1.proto)
 * with @grpc/proto-loader, in the same style and options as the KMS loader (keepCase: field names
 * as on the wire, bytes as Buffer, defaults filled in). Kept to one small function so it folds into
 * the unified proto loader of src/grpc/ once that lands on main.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const FILE = fileURLToPath(new URL('../../grpc/proto/csi-provider-v1alpha1.proto', import.meta.url));
const OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** `/v1alpha1.CSIDriverProvider/<Method>`, as the driver dials it. */
export const CSI_SERVICE = 'v1alpha1.CSIDriverProvider';

let loaded: protoLoader.PackageDefinition | undefined;

export function csiPackage(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(FILE, OPTIONS);
  return loaded;
}

/** The service definition, for grpc.Server#addService and for grpc.makeGenericClientConstructor. */
export function csiServiceDefinition(): ServiceDefinition {
  return csiPackage()[CSI_SERVICE] as unknown as ServiceDefinition;
}

/** Wire shapes (keepCase) of the messages the provider reads and writes. */
export interface ObjectVersion {
  id: string;
  version: string;
}
export interface MountRequest {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
  current_object_version: ObjectVersion[];
}
export interface CsiFile {
  path: string;
  mode: number;
  contents: Buffer;
}
export interface MountResponse {
  object_version: ObjectVersion[];
  error?: { code: string };
  files: CsiFile[];
}
export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
}
