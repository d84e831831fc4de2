export { ArcaClient, type ClientOptions, type ApiResponse, toClientError } from './client.ts';
export { parseSecretRef, secretDataPath, secretMetadataPath, type SecretRef } from './secret-ref.ts';
