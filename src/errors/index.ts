export { ERROR_CODES, type ErrorCode } from './codes.ts';
export { ArcaError, type ArcaErrorOptions, isArcaError, toArcaError } from './arca-error.ts';
export { HTTP_STATUS } from './http-status.ts';
export { GRPC_STATUS, GrpcCode, type GrpcCodeValue } from './grpc-status.ts';
