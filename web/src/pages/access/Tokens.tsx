// Tokens: who this session is (lookup-self), every token accessor (LIST auth/token/accessors, sudo),
// look up or revoke a token by accessor (with confirmation). Token values are never shown.
import { type FormEvent, useState } from 'react';
import { api, call } from '../../api/client.ts';
import { Async, ErrorBanner, useAsync } from '../../components/async.tsx';
import { ConfirmButton, Field } from '../../components/ui.tsx';
import { isForbidden, TokenFacts, type TokenInfo } from './common.tsx';

export function Tokens() {
  const self = useAsync(async () => (await api.read<TokenInfo>('auth/token/lookup-self')).data ?? {}, []);
  const accessors = useAsync(async () => {
    try {
      return await api.list('auth/token/accessors');
    } catch (err) {
      if (isForbidden(err)) return null;
      throw err;
    }
  }, []);
  const [accessor, setAccessor] = useState('');
  const [looked, setLooked] = useState<{ accessor: string; info: TokenInfo } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const lookup = async (a: string) => {
    setError(null);
    setNotice(null);
    setLooked(null);
    try {
      const r = await call<TokenInfo>('POST', 'auth/token/lookup-accessor', { accessor: a });
      setLooked({ accessor: a, info: r.data ?? {} });
    } catch (err) {
      setError(err);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (accessor.trim()) void lookup(accessor.trim());
  };

  return (
    <>
      <section aria-labelledby="self-h" className="card">
        <h2 id="self-h">This session’s token</h2>
        <Async state={self} label="Looking up this token…">
          {(t) => <TokenFacts t={t} />}
        </Async>
      </section>
      <section aria-labelledby="lookup-h">
        <h2 id="lookup-h">Look up a token by accessor</h2>
        <form onSubmit={submit} aria-label="Look up a token by accessor" className="inline-form">
          <Field label="Accessor">{(id) => <input id={id} value={accessor} autoComplete="off" onChange={(e) => setAccessor(e.target.value)} />}</Field>
          <button type="submit" className="primary">
            Look up
          </button>
        </form>
        {error ? <ErrorBanner error={error} /> : null}
        {notice ? (
          <div className="banner ok" role="status">
            {notice}
          </div>
        ) : null}
        {looked ? (
          <div className="card">
            <TokenFacts t={looked.info} />
            <ConfirmButton
              label="Revoke token"
              title="Revoke this token?"
              body={
                <p>
                  The token with accessor <code>{looked.accessor}</code> ({looked.info.display_name ?? 'unnamed'}) and every token created from it stop working at once.
                </p>
              }
              danger
              onConfirm={async () => {
                await call('POST', 'auth/token/revoke-accessor', { accessor: looked.accessor });
                setLooked(null);
                setNotice(`Token ${looked.accessor} revoked.`);
                accessors.reload();
              }}
            />
          </div>
        ) : null}
      </section>
      <section aria-labelledby="acc-h">
        <h2 id="acc-h">All token accessors</h2>
        <Async state={accessors} label="Listing accessors…">
          {(keys) =>
            keys === null ? (
              <p className="muted">Listing accessors needs sudo on auth/token/accessors.</p>
            ) : (
              <ul className="accessor-list">
                {keys.map((k) => (
                  <li key={k}>
                    <code>{k}</code>{' '}
                    <button type="button" aria-label={`Look up accessor ${k}`} onClick={() => void lookup(k)}>
                      Look up
                    </button>
                  </li>
                ))}
              </ul>
            )
          }
        </Async>
      </section>
    </>
  );
}
