// Control-group calls of the Approvals page (server side: src/identity/control-groups.ts).
import { ApiError, api, call, type MfaRequirement } from '../../api/client.ts';

export interface Factor {
  name: string;
  have: number;
  need: number;
  /** Seconds: approvals for this factor need a token from an MFA login this recent (0: no). */
  require_mfa_within?: number;
}

export interface PendingRequest {
  accessor: string;
  approved: boolean;
  request_path: string;
  request_operation: string;
  request_entity: { id: string; name: string };
  authorizations: { entity_id: string; entity_name: string }[];
  factors: Factor[];
  creation_time?: string;
  expire_time: string;
  expired: boolean;
}

type View = Omit<PendingRequest, 'accessor'>;

/** Pending requests (the server drops expired ones as it lists). */
export async function listPending(signal: AbortSignal): Promise<PendingRequest[]> {
  const r = await call<{ keys?: string[]; key_info?: Record<string, View> }>('LIST', 'sys/control-group/requests', undefined, { signal });
  const info = r.data?.key_info ?? {};
  return (r.data?.keys ?? []).flatMap((k) => (info[k] ? [{ accessor: k, ...info[k] }] : []));
}

export async function requestStatus(accessor: string): Promise<PendingRequest> {
  const r = await api.write<View>('sys/control-group/request', { accessor });
  return { accessor, ...(r.data as View) };
}

export async function authorize(accessor: string): Promise<{ approved: boolean }> {
  const r = await api.write<{ approved: boolean }>('sys/control-group/authorize', { accessor });
  return r.data ?? { approved: false };
}

/** The server refuses an approval whose factor needs a recent MFA login with a code of its own. */
export function needsStepUp(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'ERR_CONTROL_GROUP_MFA_REQUIRED';
}

/** sys/mfa/step-up: the second factor to answer for a fresh token of the same identity. */
export async function stepUp(): Promise<MfaRequirement> {
  const r = await api.write('sys/mfa/step-up', {});
  const req = r.auth?.mfa_requirement;
  if (!req) throw new Error('The server did not ask for a second factor.');
  return req;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "5 min" for a step-up window in seconds. */
export function formatWindow(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
