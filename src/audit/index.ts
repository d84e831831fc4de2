export { AuditBroker, type AuditBrokerOptions } from './broker.ts';
export { type AuditInput, type EntryType, ENTRY_TYPES, type HeaderReason } from './entry.ts';
export { auditHmac, DEFAULT_SENSITIVE_FIELDS, HMAC_PREFIX, redact } from './hmac.ts';
export { type AuditKeys, generateAuditKeys, GENESIS_PREV, lineHash, parsePublicKey } from './signing.ts';
export { type ChainRestart, type LogFile, verifyLog, type VerifyOptions, type VerifyProblem, type VerifyResult, type VerifyStatus } from './verify.ts';
export { auditChainRestarts, auditCheckpointFailures, auditMetricsRegistry } from './metrics.ts';
export { type AuditDevice, FileDevice, type FileDeviceOptions, SocketDevice, type SocketAddress, StdoutDevice } from './devices/index.ts';
export { AUDIT_READ_MAX_BYTES, type AuditLogAnswer, type AuditLogFilter, type AuditVerification, fileDevicePath, readAuditLog } from './read-log.ts';
