export { Pkcs11Hsm, type HsmKey, type Pkcs11HsmOptions } from './hsm.ts';
export type { Pkcs11Options } from './session.ts';
