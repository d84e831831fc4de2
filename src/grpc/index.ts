export { kmsMessage, kmsMethod, kmsPackage, kmsServiceDefinition, type KmsApi } from './kms-proto.ts';
export { csiPackage, csiServiceDefinition, CSI_SERVICE } from './csi-proto.ts';
