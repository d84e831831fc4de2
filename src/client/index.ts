export { ArcaClient, type ClientOptions, type ApiResponse, toClientError } from './client.ts';
export { parseSecretRef, secretDataPath, type SecretRef } from './secret-ref.ts';
