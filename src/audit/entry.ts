import type { Operation } from '../logical/index.ts';

/** What the core hands the broker for every request and every response. */
export interface AuditInput {
  type: 'request' | 'response';
  request: {
    /** Request id shared with logs and the response's `request_id`. */
    id: string;
    operation: Operation | string;
    /** Logical path after `/v1/`. Paths are not HMAC'd: keep secrets out of them. */
    path: string;
    clientAddr: string;
    auth?: { accessor: string; policies: readonly string[]; displayName: string; entityId?: string } | undefined;
    /** Request body or query; sensitive fields are HMAC'd. */
    data?: Record<string, unknown> | undefined;
  };
  /** For `type: 'response'`. */
  response?: { status: number; data?: unknown } | undefined;
  /** Error code and message of a failed request (never secret by ArcaError's contract). */
  error?: string | undefined;
  /** Extra field names to HMAC for this entry (the engine's `sensitiveFields`; `*` = all of data). */
  sensitiveFields?: readonly string[] | undefined;
}

/** Entry types as they appear in the log. */
export type EntryType = 'header' | 'request' | 'response' | 'checkpoint';

export const ENTRY_TYPES: readonly EntryType[] = ['header', 'request', 'response', 'checkpoint'];

/**
 * Why a header was written; `reopen` tells the device pipeline to reopen its file first;
 * `chain-restart` (signed) starts a new chain after the broker lost its position in the old one.
 */
export type HeaderReason = 'start' | 'reopen' | 'device-added' | 'chain-restart';
