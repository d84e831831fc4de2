// The UI's login session. The token lives in memory and in sessionStorage (one browser tab, gone when
// the tab closes), never in localStorage, IndexedDB or a cookie: docs/ui.md says why.
const KEY = 'arca.session';

export interface Session {
  token: string;
  /** Who is logged in, for the header ("userpass: alice"). */
  displayName: string;
  policies: string[];
  entityId: string;
  /** Epoch ms when the token expires (0: never). */
  expiresAt: number;
}

let current: Session | null = readStored();
const listeners = new Set<(s: Session | null) => void>();

function readStored(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return current;
}

export function setSession(s: Session | null): void {
  current = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l(s);
}

export function onSession(l: (s: Session | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
