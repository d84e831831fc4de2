export { kmsMessage, kmsMethod, kmsPackage, kmsServiceDefinition, type KmsApi } from './kms-proto.ts';
export { csiPackage, csiServiceDefinition, CSI_SERVICE } from './csi-proto.ts';
export { H2UnaryServer, type H2UnaryServerOptions, type UnaryMethod, type GrpcFailure, encodeGrpcMessage, frame, parseGrpcTimeout } from './h2-unary-server.ts';
export { socketPath, clearStaleSocket, bindPrivate, removeSocket } from './socket.ts';
