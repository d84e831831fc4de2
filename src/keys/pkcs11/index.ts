export { Pkcs11Hsm, type HsmKey, type Pkcs11HsmOptions } from './hsm.ts';
export { HsmKeyBackend, TRANSIT_KEY_LABEL_PREFIX } from './hsm-key-backend.ts';
export type { Pkcs11Options } from './session.ts';
export { HsmEcKeys, type HsmEcKey } from './hsm-ec.ts';
