// The one HTTP client of the UI: Vault's API under /v1 on the same origin, the session's token in
// X-Vault-Token, Arca's coded errors turned into ApiError. Every page calls the server through it.
import { getSession, setSession } from './session.ts';

export type Method = 'GET' | 'LIST' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class ApiError extends Error {
  readonly status: number;
  /** Arca's stable code (ERR_...), or NETWORK when the server could not be reached. */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get sealed(): boolean {
    return this.code === 'ERR_SEALED' || (this.status === 503 && /sealed/i.test(this.message));
  }
  get unreachable(): boolean {
    return this.code === 'NETWORK';
  }
}

export interface Envelope<D = Record<string, unknown>> {
  data?: D;
  auth?: Record<string, unknown> & { client_token?: string; mfa_requirement?: MfaRequirement };
  warnings?: string[];
  wrap_info?: Record<string, unknown>;
}

export interface MfaRequirement {
  mfa_request_id: string;
  mfa_constraints: Record<string, { any: { type: string; id: string; uses_passcode: boolean; name?: string; webauthn_options?: unknown }[] }>;
}

export interface CallOptions {
  /** Query parameters (GET, LIST, DELETE). */
  query?: Record<string, string | number | boolean | undefined>;
  /** Send without the session token (login endpoints), or with another one. */
  token?: string | null;
  signal?: AbortSignal;
}

/** Encodes each path segment; keeps the slashes (secret paths are trees). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export async function call<D = Record<string, unknown>>(method: Method, path: string, body?: unknown, o: CallOptions = {}): Promise<Envelope<D>> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) q.set(k, String(v));
  if (method === 'LIST') q.set('list', 'true');
  const qs = q.toString();
  const url = `/v1/${encodePath(path.replace(/^\/+/, ''))}${qs ? `?${qs}` : ''}`;
  const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
  const token = o.token === undefined ? getSession()?.token : o.token;
  if (token) headers['X-Vault-Token'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: method === 'LIST' ? 'GET' : method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'The Arca server could not be reached: check that it is running and that this page was loaded from it.');
  }
  if (res.status === 204) return {};
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const b = (parsed ?? {}) as { errors?: string[]; error?: { code?: string; message?: string } };
    const code = b.error?.code ?? (res.status === 503 ? 'ERR_SEALED' : `HTTP_${res.status}`);
    const msg = b.error?.message || b.errors?.join('; ') || `${res.status} ${res.statusText}`;
    // A token that expired or was revoked: the login page, not an error on every card.
    if (code === 'ERR_TOKEN_INVALID' && token && getSession()?.token === token) setSession(null);
    throw new ApiError(res.status, code, msg);
  }
  return (parsed ?? {}) as Envelope<D>;
}

export const api = {
  read: <D = Record<string, unknown>>(path: string, o?: CallOptions) => call<D>('GET', path, undefined, o),
  list: async (path: string, o?: CallOptions): Promise<string[]> => {
    try {
      return (await call<{ keys?: string[] }>('LIST', path, undefined, o)).data?.keys ?? [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  },
  write: <D = Record<string, unknown>>(path: string, body: unknown = {}, o?: CallOptions) => call<D>('POST', path, body, o),
  del: (path: string, o?: CallOptions) => call('DELETE', path, undefined, o),
};
