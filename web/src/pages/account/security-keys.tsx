// The signed-in entity's security keys on one WebAuthn method: the list and "register a key" (the
// browser's WebAuthn ceremony through api/mfa.ts). Removing keys is an administrator's
// admin-destroy, not offered here.
import { type FormEvent, useState } from 'react';
import { listSecurityKeys, type MfaMethodInfo, registerSecurityKey } from '../../api/mfa.ts';
import { Async, ErrorBanner, useAsync } from '../../components/async.tsx';
import { securityKeyError } from '../../components/mfa.tsx';
import { Field, TableHead } from '../../components/ui.tsx';

function when(created: string): string {
  const d = new Date(created);
  return Number.isNaN(d.getTime()) ? created : d.toLocaleString();
}

export function SecurityKeys({ method }: { method: MfaMethodInfo }) {
  const keys = useAsync((signal) => listSecurityKeys(method.id, signal), [method.id]);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const register = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone('');
    try {
      await registerSecurityKey(method.id, label.trim());
      setDone(`Security key “${label.trim() || 'unnamed'}” registered.`);
      setLabel('');
      keys.reload();
    } catch (err) {
      setError(securityKeyError(err));
    } finally {
      setBusy(false);
    }
  };
  const title = method.name || method.id;
  return (
    <section className="card" aria-labelledby={`keys-${method.id}`}>
      <h3 id={`keys-${method.id}`}>Security keys · {title}</h3>
      <Async state={keys} label="Loading your security keys…">
        {(list) =>
          list.length === 0 ? (
            <p className="muted">No security key registered yet.</p>
          ) : (
            <table>
              <caption className="visually-hidden">Your security keys for {title}</caption>
              <TableHead cols={['Name', 'Registered', 'Credential ID']} />
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td>{k.label || <span className="muted">unnamed</span>}</td>
                    <td>{when(k.created)}</td>
                    <td>
                      <code title={k.id}>{k.id.length > 16 ? `${k.id.slice(0, 16)}…` : k.id}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
      <form onSubmit={register} aria-label={`Register a security key for ${title}`} aria-busy={busy}>
        <Field label="Name for the new key" hint="So you can tell your keys apart, e.g. “YubiKey on my keyring”">
          {(id) => <input id={id} name="key-label" maxLength={64} value={label} onChange={(e) => setLabel(e.target.value)} />}
        </Field>
        {error ? <ErrorBanner error={error} /> : null}
        {done ? (
          <p className="banner ok" role="status">
            {done}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Touch your security key…' : 'Register security key'}
          </button>
        </div>
      </form>
    </section>
  );
}
