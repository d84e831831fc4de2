// The shell: login gate, server state banner, navigation, and the page for the current route.
import { useEffect, useState } from 'react';
import { logout } from './api/auth.ts';
import { call } from './api/client.ts';
import { getSession, onSession, type Session } from './api/session.ts';
import { Link } from './components/ui.tsx';
import { Access } from './pages/Access.tsx';
import { Account } from './pages/Account.tsx';
import { Approvals } from './pages/Approvals.tsx';
import { Audit } from './pages/Audit.tsx';
import { Keys } from './pages/Keys.tsx';
import { Login } from './pages/Login.tsx';
import { Posture } from './pages/Posture.tsx';
import { Secrets } from './pages/Secrets.tsx';
import { navigate, type Route, useRoute } from './router.ts';

/** The pages, in navigation order: first path segment → component. */
export const PAGES = [
  { path: 'secrets', label: 'Secrets', Component: Secrets },
  { path: 'keys', label: 'Keys', Component: Keys },
  { path: 'approvals', label: 'Approvals', Component: Approvals },
  { path: 'audit', label: 'Audit', Component: Audit },
  { path: 'access', label: 'Access', Component: Access },
  { path: 'posture', label: 'Posture', Component: Posture },
] as const;

function useSession(): Session | null {
  const [s, setS] = useState(getSession);
  useEffect(() => onSession(setS), []);
  return s;
}

type ServerState = 'unknown' | 'ok' | 'sealed' | 'uninitialized' | 'unreachable';

/** Seal status is public: the banner says a sealed or unreachable server before anything fails. */
function useServerState(): ServerState {
  const [st, setSt] = useState<ServerState>('unknown');
  useEffect(() => {
    let stop = false;
    const check = async () => {
      try {
        const r = (await call('GET', 'sys/seal-status', undefined, { token: null })) as { initialized?: boolean; sealed?: boolean };
        if (!stop) setSt(r.initialized === false ? 'uninitialized' : r.sealed ? 'sealed' : 'ok');
      } catch {
        if (!stop) setSt('unreachable');
      }
    };
    void check();
    const t = setInterval(check, 15_000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);
  return st;
}

function ServerBanner({ state }: { state: ServerState }) {
  if (state === 'ok' || state === 'unknown') return null;
  const text = {
    sealed: 'The Arca server is sealed: nothing can be read or written until it is unsealed (arca operator unseal).',
    uninitialized: 'The Arca server is not initialized yet (arca operator init).',
    unreachable: 'The Arca server cannot be reached: check that it is running.',
  }[state];
  return (
    <div className="banner error server-state" role="alert">
      {text}
    </div>
  );
}

function Shell({ session, route }: { session: Session; route: Route }) {
  const head = route.path.split('/')[0] || 'secrets';
  // The account page is not in the navigation: the user name in the header links to it.
  const page = head === 'account' ? { Component: Account } : PAGES.find((p) => p.path === head);
  useEffect(() => {
    // An OIDC callback opened while already signed in (a second tab, the back button) has nothing to do.
    if (!route.path || route.path === 'oidc/callback') navigate('secrets', true);
  }, [route.path]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Arca</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <Link to={p.path} {...(p.path === head ? { className: 'current' } : {})}>
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" title={session.policies.join(', ')}>
          <Link to="account">{session.displayName}</Link>
        </span>
        <button type="button" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page ? <page.Component /> : <p role="alert">No such page: {route.path}</p>}
      </main>
    </>
  );
}

export function App() {
  const session = useSession();
  const route = useRoute();
  const server = useServerState();
  return (
    <>
      <ServerBanner state={server} />
      {session ? <Shell session={session} route={route} /> : <Login />}
    </>
  );
}
