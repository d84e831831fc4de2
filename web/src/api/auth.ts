// Turning a token into a UI session: lookup-self says who it is and for how long.
import { api, call } from './client.ts';
import { type Session, setSession } from './session.ts';

interface LookupSelf {
  display_name?: string;
  policies?: string[];
  entity_id?: string;
  ttl?: number;
}

export async function startSession(token: string): Promise<Session> {
  const r = await api.read<LookupSelf>('auth/token/lookup-self', { token });
  const d = r.data ?? {};
  const s: Session = {
    token,
    displayName: d.display_name || 'token',
    policies: d.policies ?? [],
    entityId: d.entity_id ?? '',
    expiresAt: d.ttl ? Date.now() + d.ttl * 1000 : 0,
  };
  setSession(s);
  return s;
}

/** Revokes the token on the server (best effort) and forgets it here. */
export async function logout(): Promise<void> {
  try {
    await call('POST', 'auth/token/revoke-self');
  } catch {
    // The token may already be gone; forgetting it locally is what matters.
  }
  setSession(null);
}
