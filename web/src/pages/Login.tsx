// Login: a token, a user name and password (userpass), or single sign-on (OIDC redirect); a second
// factor (TOTP code or WebAuthn security key) when the server answers an `mfa_requirement`. The
// provider's redirect back (/ui/oidc/callback) lands here too: without a session the shell shows
// this page whatever the path.
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { startSession } from '../api/auth.ts';
import type { MfaRequirement } from '../api/client.ts';
import { ErrorBanner, Loading } from '../components/async.tsx';
import { MfaPrompt } from '../components/mfa.tsx';
import { navigate, useRoute } from '../router.ts';
import { type Auth, OidcForm, TokenForm, UserpassForm } from './login/forms.tsx';
import { loginError } from './login/errors.ts';
import { CALLBACK_PATH, finishOidc } from './login/oidc.ts';
import { Tabs } from './login/tabs.tsx';
import './login/login.css';

export function Login() {
  const route = useRoute();
  const [tab, setTab] = useState('token');
  const [mfa, setMfa] = useState<MfaRequirement | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [completing, setCompleting] = useState(false);
  const callbackRun = useRef(false);

  useEffect(() => {
    document.title = 'Sign in · Arca';
  }, []);

  /** A first-factor answer: a token, or the second factor to ask for. */
  const onAuth = async (auth: Auth) => {
    setError(null);
    if (auth.mfa_requirement) return setMfa(auth.mfa_requirement);
    if (!auth.client_token) throw new Error('The server answered without a token.');
    await startSession(auth.client_token);
  };

  // The provider's redirect back: finish once (the state is single use), then leave the callback URL
  // (it carries the code) for the Secrets page, where the shell opens once the session starts.
  useEffect(() => {
    if (route.path !== CALLBACK_PATH || callbackRun.current) return;
    callbackRun.current = true;
    const query = route.query;
    setTab('oidc');
    setCompleting(true);
    navigate('secrets', true);
    finishOidc(query)
      .then(onAuth)
      .catch((err: unknown) => setError(loginError(err, true)))
      .finally(() => setCompleting(false));
  });

  const afterMfa = async (auth: Auth) => {
    try {
      if (!auth.client_token) throw new Error('The server answered without a token.');
      await startSession(auth.client_token);
    } catch (err) {
      setMfa(null);
      setError(loginError(err));
    }
  };

  let body: ReactNode;
  if (completing) body = <Loading label="Completing single sign-on…" />;
  else if (mfa)
    body = (
      <MfaPrompt
        requirement={mfa}
        onAuth={(a) => void afterMfa(a)}
        onCancel={() => {
          setMfa(null);
          setError(null);
        }}
      />
    );
  else
    body = (
      <>
        {error ? <ErrorBanner error={error} /> : null}
        <Tabs
          label="Sign-in method"
          selected={tab}
          onSelect={(t) => {
            setTab(t);
            setError(null);
          }}
          tabs={[
            { id: 'token', label: 'Token', panel: <TokenForm onToken={(t) => startSession(t).then(() => undefined)} /> },
            { id: 'userpass', label: 'Username & password', panel: <UserpassForm onAuth={onAuth} /> },
            { id: 'oidc', label: 'Single sign-on (OIDC)', panel: <OidcForm /> },
          ]}
        />
      </>
    );
  return (
    <main className="login" id="main">
      <h1>Sign in to Arca</h1>
      {body}
    </main>
  );
}
