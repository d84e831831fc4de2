// The three ways to sign in, one form each. A form hands the server's `auth` block to `onAuth` (the
// login page starts the session, or asks for the second factor); its own errors are shown in words.
import { type FormEvent, type ReactNode, useState } from 'react';
import { api, type Envelope } from '../../api/client.ts';
import { ErrorBanner } from '../../components/async.tsx';
import { Field } from '../../components/ui.tsx';
import { loginError } from './errors.ts';
import { beginOidc, redirectUri } from './oidc.ts';

export type Auth = NonNullable<Envelope['auth']>;
export type OnAuth = (auth: Auth) => Promise<void>;

/** A mount path as typed ("userpass", "/corp/ldap/"): no leading/trailing slash, no empty segment. */
export function cleanMount(raw: string): string {
  const m = raw.trim().replace(/^\/+|\/+$/g, '');
  if (!m || m.split('/').some((s) => !s || s === '.' || s === '..')) throw new Error('Enter the path the auth method is mounted at, e.g. "userpass".');
  return m;
}

/** Form frame: submit with busy state (the button says what is happening) and an error banner. */
function LoginForm(props: { label: string; busyLabel: string; submitLabel: string; atMount?: boolean; run: () => Promise<void>; children: ReactNode }) {
  const { label, busyLabel, submitLabel, run, children } = props;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(loginError(err, props.atMount));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label={label} aria-busy={busy}>
      {children}
      {error ? <ErrorBanner error={error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </form>
  );
}

export function TokenForm({ onToken }: { onToken: (token: string) => Promise<void> }) {
  const [token, setToken] = useState('');
  return (
    <LoginForm label="Sign in with a token" submitLabel="Sign in" busyLabel="Signing in…" run={() => onToken(token.trim())}>
      <Field label="Token">{(id) => <input id={id} name="token" type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} />}</Field>
    </LoginForm>
  );
}

export function UserpassForm({ onAuth }: { onAuth: OnAuth }) {
  const [mount, setMount] = useState('userpass');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const run = async () => {
    const name = user.trim();
    if (name.includes('/')) throw new Error('A user name cannot contain "/".');
    const path = `auth/${cleanMount(mount)}/login/${name}`;
    let r: Envelope;
    try {
      r = await api.write(path, { password }, { token: null });
    } finally {
      // The password leaves the form as soon as the server has answered, right or wrong.
      setPassword('');
    }
    await onAuth(r.auth ?? {});
  };
  return (
    <LoginForm label="Sign in with a user name and password" atMount submitLabel="Sign in" busyLabel="Signing in…" run={run}>
      <Field label="User name">{(id) => <input id={id} name="username" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />}</Field>
      <Field label="Password">
        {(id) => <input id={id} name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
      </Field>
      <Field label="Mount path" hint="Where the userpass auth method is mounted">
        {(id) => <input id={id} name="userpass-mount" required value={mount} onChange={(e) => setMount(e.target.value)} />}
      </Field>
    </LoginForm>
  );
}

export function OidcForm() {
  const [mount, setMount] = useState('oidc');
  const [role, setRole] = useState('');
  const run = async () => {
    const url = await beginOidc(cleanMount(mount), role.trim());
    // Leaves the app: the provider sends the browser back to /ui/oidc/callback.
    location.assign(url);
    // Keep the button busy while the browser navigates away.
    await new Promise(() => {});
  };
  return (
    <LoginForm label="Sign in with single sign-on (OIDC)" atMount submitLabel="Continue to the identity provider" busyLabel="Redirecting…" run={run}>
      <p className="muted">You are sent to your organization’s identity provider and come back here signed in.</p>
      <Field label="Role" hint="Optional: the OIDC role to sign in with (empty: the method's default role)">
        {(id) => <input id={id} name="oidc-role" value={role} onChange={(e) => setRole(e.target.value)} />}
      </Field>
      <Field label="Mount path" hint="Where the OIDC auth method is mounted">
        {(id) => <input id={id} name="oidc-mount" required value={mount} onChange={(e) => setMount(e.target.value)} />}
      </Field>
      <p className="muted small">
        Callback URL to allow in the role: <code>{redirectUri()}</code>
      </p>
    </LoginForm>
  );
}
