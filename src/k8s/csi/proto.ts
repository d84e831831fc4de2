/**
 * Wire shapes (keepCase, as loaded by src/grpc/csi-proto.ts) of the CSI provider messages the
 * provider reads and writes. The loader itself is src/grpc's, beside the KMS protos.
 */
export { csiServiceDefinition, CSI_SERVICE } from '../../grpc/index.ts';

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
