export type { KeyBackend, KeyType } from './backend.ts';
export { SoftwareKeyBackend } from './software.ts';
export { HsmKeyBackend, TRANSIT_KEY_LABEL_PREFIX } from './pkcs11/hsm-key-backend.ts';
export { Pkcs11Hsm, type HsmKey, type Pkcs11HsmOptions, type Pkcs11Options, HsmEcKeys, type HsmEcKey } from './pkcs11/index.ts';
