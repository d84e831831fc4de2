export { IdentityStore, IDENTITY_CACHE_MS, type Entity, type Alias, type Group } from './store.ts';
export { createIdentityEngine, type MountByAccessor } from './engine.ts';
export { WrapStore, MAX_WRAP_TTL } from './wrapping.ts';
export { ControlGroups, type StoredRequest } from './control-groups.ts';
