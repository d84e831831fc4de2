/** What the core hands the audit module: one record per request and one per response. */
import type { AuthContext } from '../engines/index.ts';
import type { LogicalRequest } from './request.ts';

export interface AuditSink {
  /** Called after unseal (keys and devices live in the barrier) and before seal. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  request(e: AuditRecord): Promise<void>;
  response(e: AuditRecord & { status: number; response?: Record<string, unknown> | null; error?: string }): Promise<void>;
}
export interface AuditRecord {
  req: LogicalRequest;
  auth: AuthContext | undefined;
  sensitive: readonly string[];
}
