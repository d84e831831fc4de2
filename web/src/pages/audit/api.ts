// Calls of the Audit page: the enabled devices (sys/audit) and the log read-back (sys/audit-log,
// server side src/core/builtin/audit-log.ts). Both are root-protected (sudo).
import { api, call } from '../../api/client.ts';

export interface AuditEntry {
  type: 'request' | 'response';
  time: string;
  seq?: number;
  request: { id: string; operation: string; path: string; client_addr?: string; auth?: { display_name?: string; entity_id?: string; policies?: string[] } | null; data?: unknown };
  response?: { status?: number; data?: unknown } | null;
  error?: string;
}

export interface Verification {
  status: 'verified' | 'unproven' | 'tampered' | 'not_checked';
  entries: number;
  checkpoints: number;
  first_seq?: number;
  last_seq?: number;
  unsigned_entries?: number;
  problem?: { line: number; seq?: number; reason: string };
  chain_restarts: number;
}

export interface AuditLog {
  device: string;
  key_id: string;
  entries: AuditEntry[];
  limit_reached: boolean;
  verification: Verification;
}

export interface Filters {
  device: string;
  type: '' | 'request' | 'response';
  operation: string;
  path_prefix: string;
  errors_only: boolean;
  limit: number;
}

export const FILTER_KEYS = ['device', 'type', 'operation', 'path_prefix', 'errors_only', 'limit'] as const;

export function filtersFrom(q: URLSearchParams): Filters {
  const type = q.get('type');
  const limit = Number(q.get('limit') ?? '100');
  return {
    device: q.get('device') ?? '',
    type: type === 'request' || type === 'response' ? type : '',
    operation: q.get('operation') ?? '',
    path_prefix: q.get('path_prefix') ?? '',
    errors_only: q.get('errors_only') === 'true',
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : 100,
  };
}

export function filtersQuery(f: Filters): string {
  const q = new URLSearchParams();
  if (f.device) q.set('device', f.device);
  if (f.type) q.set('type', f.type);
  if (f.operation) q.set('operation', f.operation);
  if (f.path_prefix) q.set('path_prefix', f.path_prefix);
  if (f.errors_only) q.set('errors_only', 'true');
  if (f.limit !== 100) q.set('limit', String(f.limit));
  return q.toString();
}

export async function fileDevices(signal: AbortSignal): Promise<string[]> {
  const r = await api.read<Record<string, { type: string }>>('sys/audit', { signal });
  return Object.entries(r.data ?? {})
    .filter(([, d]) => d.type === 'file')
    .map(([path]) => path);
}

export async function readLog(f: Filters, signal: AbortSignal): Promise<AuditLog> {
  const r = await call<AuditLog>('GET', 'sys/audit-log', undefined, {
    signal,
    query: { device: f.device || undefined, type: f.type || undefined, operation: f.operation || undefined, path_prefix: f.path_prefix || undefined, errors_only: f.errors_only || undefined, limit: f.limit },
  });
  return r.data as AuditLog;
}

/** sys/audit-checkpoint: signs the log now, so the chain verifies up to this point. */
export async function checkpoint(): Promise<void> {
  await api.write('sys/audit-checkpoint', {});
}
