// ACL policies: list, view, edit and create (the server parses the HCL on write and its message is
// shown beside the editor), delete with confirmation. `root` cannot be read or changed; `default`
// cannot be deleted (the server enforces both; the UI just does not offer them).
import { type FormEvent, useState } from 'react';
import { api, encodePath } from '../../api/client.ts';
import { Async, ErrorBanner, useAsync } from '../../components/async.tsx';
import { ConfirmButton, Field, Link } from '../../components/ui.tsx';
import { navigate } from '../../router.ts';

const NAME = /^[A-Za-z0-9_.@-][A-Za-z0-9_.@/-]{0,127}$/;

export function Policies({ name }: { name: string | undefined }) {
  const list = useAsync(() => api.list('sys/policies/acl'), []);
  return (
    <div className="access-split">
      <nav aria-label="Policies" className="card side-list">
        <h2>Policies</h2>
        <Async state={list} label="Loading policies…">
          {(names) => (
            <ul>
              {names.map((n) => (
                <li key={n}>
                  <Link to={`access/policies/${encodeURIComponent(n)}`} {...(n === name ? { className: 'current' } : {})}>
                    {n}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </Async>
        <Link to="access/policies/-new">New policy</Link>
      </nav>
      <div className="access-main">
        {name === '-new' ? (
          <PolicyEditor key="-new" name={undefined} initial="" onSaved={(n) => {
              list.reload();
              navigate(`access/policies/${encodeURIComponent(n)}`);
            }} />
        ) : name ? (
          <PolicyView key={name} name={name} onChanged={list.reload} />
        ) : (
          <p className="muted">Choose a policy to view or edit it, or create a new one.</p>
        )}
      </div>
    </div>
  );
}

function PolicyView({ name, onChanged }: { name: string; onChanged: () => void }) {
  const state = useAsync(async () => (await api.read<{ policy?: string }>(`sys/policies/acl/${encodePath(name)}`)).data?.policy ?? '', [name]);
  return (
    <Async state={state} label="Loading the policy…">
      {(text) => (
        <>
          <PolicyEditor name={name} initial={text} onSaved={onChanged} />
          {name !== 'default' ? (
            <ConfirmButton
              label="Delete policy"
              title={`Delete policy ${name}?`}
              body={<p>Tokens and identities that name it lose what it grants, at once. This cannot be undone.</p>}
              danger
              onConfirm={async () => {
                await api.del(`sys/policies/acl/${encodePath(name)}`);
                onChanged();
                navigate('access/policies');
              }}
            />
          ) : null}
        </>
      )}
    </Async>
  );
}

function PolicyEditor({ name, initial, onSaved }: { name: string | undefined; initial: string; onSaved: (name: string) => void }) {
  const [newName, setNewName] = useState('');
  const [text, setText] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = name ?? newName.trim();
    setError(null);
    setSaved(false);
    if (!NAME.test(n)) return setError(new Error('Name the policy with letters, digits and . _ - @ / (up to 128 characters).'));
    setBusy(true);
    try {
      await api.write(`sys/policies/acl/${encodePath(n)}`, { policy: text });
      setSaved(true);
      onSaved(n);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label={name ? `Edit policy ${name}` : 'New policy'}>
      <h2>{name ? `Policy ${name}` : 'New policy'}</h2>
      {name ? null : <Field label="Name">{(id) => <input id={id} value={newName} required onChange={(e) => setNewName(e.target.value)} />}</Field>}
      <Field label="Policy (HCL)" hint="Checked by the server when you save: errors are shown below.">
        {(id) => <textarea id={id} className="policy-text" spellCheck={false} value={text} aria-invalid={error ? true : undefined} onChange={(e) => setText(e.target.value)} />}
      </Field>
      {error ? <ErrorBanner error={error} /> : null}
      {saved ? (
        <div className="banner ok" role="status">
          Saved.
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {name ? 'Save policy' : 'Create policy'}
        </button>
      </div>
    </form>
  );
}
