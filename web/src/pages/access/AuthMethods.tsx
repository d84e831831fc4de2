// Auth methods: the enabled ones (sys/auth) with the type of token their logins get, enable a new
// one, disable with confirmation (every token issued through it is revoked by the server). The
// token method cannot be disabled.
import { type FormEvent, useState } from 'react';
import { api, encodePath } from '../../api/client.ts';
import { Async, ErrorBanner, useAsync } from '../../components/async.tsx';
import { ConfirmButton, Field, TableHead } from '../../components/ui.tsx';

interface AuthMount {
  type: string;
  description?: string;
  accessor?: string;
  config?: { token_type?: string };
}

const TYPES = ['userpass', 'oidc', 'kubernetes', 'cert'];
/** The auth mount's token_type (docs/governance.md): a default the roles may override, or forced. */
const TOKEN_TYPES = ['default-service', 'default-batch', 'service', 'batch'];

export function AuthMethods() {
  const s = useAsync(async () => Object.entries((await api.read<Record<string, AuthMount>>('sys/auth')).data ?? {}), []);
  const [path, setPath] = useState('');
  const [type, setType] = useState('userpass');
  const [description, setDescription] = useState('');
  const [tokenType, setTokenType] = useState('default-service');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const enable = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setNotice(null);
    const p = (path.trim() || type).replace(/^\/+|\/+$/g, '');
    try {
      const config = tokenType === 'default-service' ? {} : { config: { token_type: tokenType } };
      await api.write(`sys/auth/${encodePath(p)}`, { type, ...(description ? { description } : {}), ...config });
      setNotice(`Enabled ${type} at auth/${p}/.`);
      setPath('');
      setDescription('');
      setTokenType('default-service');
      s.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <section aria-labelledby="auth-h">
        <h2 id="auth-h">Enabled auth methods</h2>
        <Async state={s} label="Loading auth methods…">
          {(rows) => (
            <table>
              <TableHead cols={['Path', 'Type', 'Token type', 'Accessor', 'Description', 'Action']} />
              <tbody>
                {rows.map(([p, m]) => (
                  <tr key={p}>
                    <td>
                      <code>auth/{p}</code>
                    </td>
                    <td>{m.type}</td>
                    <td>{m.config?.token_type ?? <span className="muted">—</span>}</td>
                    <td>
                      <code>{m.accessor ?? '—'}</code>
                    </td>
                    <td>{m.description || <span className="muted">—</span>}</td>
                    <td>
                      {m.type === 'token' ? (
                        <span className="muted">always on</span>
                      ) : (
                        <ConfirmButton
                          label={`Disable ${p}`}
                          title={`Disable auth/${p}?`}
                          body={<p>Everyone who logs in through it is locked out, and every token it issued is revoked. Its configuration (users, roles) is deleted.</p>}
                          danger
                          onConfirm={async () => {
                            await api.del(`sys/auth/${encodePath(p.replace(/\/+$/, ''))}`);
                            setNotice(`Disabled auth/${p}.`);
                            s.reload();
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
        {notice ? (
          <div className="banner ok" role="status">
            {notice}
          </div>
        ) : null}
      </section>
      <section aria-labelledby="enable-h">
        <h2 id="enable-h">Enable an auth method</h2>
        <form onSubmit={enable} aria-label="Enable an auth method" className="inline-form">
          <Field label="Method type">
            {(id) => (
              <select id={id} value={type} onChange={(e) => setType(e.target.value)}>
                {TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Path" hint="Below auth/; defaults to the type">
            {(id) => <input id={id} value={path} placeholder={type} onChange={(e) => setPath(e.target.value)} />}
          </Field>
          <Field label="Description">{(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
          <Field label="Token type" hint="Batch tokens are never stored: the faster choice for fleets">
            {(id) => (
              <select id={id} value={tokenType} onChange={(e) => setTokenType(e.target.value)}>
                {TOKEN_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" className="primary">
            Enable
          </button>
        </form>
        {error ? <ErrorBanner error={error} /> : null}
      </section>
    </>
  );
}
