export type { AuditDevice } from './types.ts';
export { FileDevice, type FileDeviceOptions } from './file.ts';
export { StdoutDevice } from './stdout.ts';
export { SocketDevice, type SocketAddress } from './socket.ts';
