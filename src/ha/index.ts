export { PgLease, FENCED_SQLSTATE, type LeaseInfo } from './lease.ts';
export { HaManager, type HaView, type HaCallbacks } from './manager.ts';
export { FencedStorage } from './fenced-storage.ts';
export { forwardRequest, FORWARDED_HEADER, FORWARDED_TO_HEADER, type ForwardResult } from './forward.ts';
export { CLIENT_ADDR_HEADER, CLIENT_ADDR_MAC_HEADER, signClientAddr, verifiedClientAddr } from './client-addr.ts';
