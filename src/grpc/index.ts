export { kmsMessage, kmsMethod, kmsPackage, kmsServiceDefinition, type KmsApi } from './kms-proto.ts';
