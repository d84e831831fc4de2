export { Barrier, KEYRING_PATH } from './barrier.ts';
export { Keyring, type Term } from './keyring.ts';
