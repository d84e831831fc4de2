export { ServerConfig, StorageConfig, SealConfig, Pkcs11Config } from './schema.ts';
export { loadServerConfig, parseConfig, redactConfig, type ConfigSources } from './load.ts';
