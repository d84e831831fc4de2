export { ServerConfig, StorageConfig, SealConfig, Pkcs11Config, KeysConfig } from './schema.ts';
export { loadServerConfig, parseConfig, redactConfig, type ConfigSources } from './load.ts';
