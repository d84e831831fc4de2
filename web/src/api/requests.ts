// Operations held for approval (control groups): the server answers such a request with a wrapping
// token instead of running it. Only the requester can run it once approved, with that token, so the
// UI keeps it for the tab's life (sessionStorage, like the session token) and lists it on Approvals.
import { api } from './client.ts';

const KEY = 'arca.requests';

export interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
}

export interface HeldRequest {
  accessor: string;
  token: string;
  /** What was asked, in words ("Rotate key k8s-kek"). */
  what: string;
  path: string;
  createdAt: string;
  expiresAt: number;
}

function load(): HeldRequest[] {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as HeldRequest[];
  } catch {
    return [];
  }
}

function save(list: HeldRequest[]): void {
  sessionStorage.setItem(KEY, JSON.stringify(list));
}

/** Remembers a held request (call with the `wrap_info` of the answer). */
export function rememberRequest(w: WrapInfo, what: string): HeldRequest {
  const r: HeldRequest = { accessor: w.accessor, token: w.token, what, path: w.creation_path, createdAt: w.creation_time, expiresAt: Date.now() + w.ttl * 1000 };
  save([...load().filter((x) => x.accessor !== r.accessor && x.expiresAt > Date.now()), r]);
  return r;
}

/** This tab's held requests that have not expired. */
export function heldRequests(): HeldRequest[] {
  return load().filter((x) => x.expiresAt > Date.now());
}

/** Runs an approved request (sys/wrapping/unwrap); it is forgotten once run. */
export async function runHeldRequest(accessor: string): Promise<Record<string, unknown>> {
  const r = load().find((x) => x.accessor === accessor);
  if (!r) throw new Error('This request is not known in this browser tab: only the tab that made it holds its token.');
  const res = await api.write('sys/wrapping/unwrap', { token: r.token });
  save(load().filter((x) => x.accessor !== accessor));
  return res as Record<string, unknown>;
}
