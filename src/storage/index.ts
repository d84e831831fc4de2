export { type Storage, childrenOf, bytesEqual, prefixEnd, compareCodeUnits } from './storage.ts';
export { InmemStorage } from './inmem.ts';
export { StorageView } from './view.ts';
