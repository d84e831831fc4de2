export { CsiProviderServer, type CsiServerOptions, RUNTIME_NAME, RUNTIME_VERSION, API_VERSION, ERROR_MESSAGE_TRAILER } from './server.ts';
export { CsiMetrics } from './metrics.ts';
export { ClientPool } from './session.ts';
export { mount, readPath, SYNC_LIMIT_BYTES, MAX_MOUNT_BYTES, type MountDeps } from './mount.ts';
export { parseMountConfig, parseObjects, parsePermission, TOKENS_ATTRIBUTE, type MountConfig, type ObjectSpec } from './params.ts';
export { checkObjectName } from './object-name.ts';
export { objectVersion } from './version.ts';
export { csiServiceDefinition, CSI_SERVICE, type MountRequest, type MountResponse, type VersionResponse, type CsiFile, type ObjectVersion } from './proto.ts';
export { LoginCache, jwtExpiry } from './login-cache.ts';
