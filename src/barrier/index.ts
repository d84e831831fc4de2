export { Barrier, KEYRING_PATH, SEAL_KEYS_PREFIX } from './barrier.ts';
export { Keyring, type Term } from './keyring.ts';
