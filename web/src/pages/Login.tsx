// Login: a token (more methods are added beside it: userpass + second factor, OIDC).
import { type FormEvent, useState } from 'react';
import { startSession } from '../api/auth.ts';
import { ErrorBanner } from '../components/async.tsx';
import { Field } from '../components/ui.tsx';

export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await startSession(token.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login" id="main">
      <h1>Sign in to Arca</h1>
      <form onSubmit={submit} aria-label="Sign in with a token">
        <Field label="Token">{(id) => <input id={id} name="token" type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} />}</Field>
        {error ? <ErrorBanner error={error} /> : null}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
