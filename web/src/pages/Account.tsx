// The signed-in user's own page (reached from the user name in the header): who the session is, and
// the second factors of its identity entity: security keys (WebAuthn) and authenticator apps (TOTP).
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { listMfaMethods, type MfaMethodInfo } from '../api/mfa.ts';
import { getSession } from '../api/session.ts';
import { Async, useAsync } from '../components/async.tsx';
import { Field, Page } from '../components/ui.tsx';
import { SecurityKeys } from './account/security-keys.tsx';
import { TotpEnrol } from './account/totp.tsx';
import './account/account.css';

/** When the caller may not list methods, an administrator can give the WebAuthn method's id. */
function MethodById({ onMethod }: { onMethod: (m: MfaMethodInfo) => void }) {
  const [id, setId] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (id.trim()) onMethod({ id: id.trim(), type: 'webauthn', name: '' });
  };
  return (
    <form onSubmit={submit} aria-label="Security keys of a WebAuthn method by id">
      <Field label="WebAuthn method ID" hint="Ask an administrator for it">
        {(fid) => <input id={fid} name="method-id" value={id} onChange={(e) => setId(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="submit">Show my keys</button>
      </div>
    </form>
  );
}

function Factors() {
  const methods = useAsync((signal) => listMfaMethods(signal), []);
  const [byId, setById] = useState<MfaMethodInfo | null>(null);
  if (methods.status === 'error' && methods.error instanceof ApiError && methods.error.status === 403) {
    return (
      <>
        <p className="banner warn">Your policies do not allow listing the MFA methods (LIST identity/mfa/method/).</p>
        {byId ? <SecurityKeys method={byId} /> : <MethodById onMethod={setById} />}
      </>
    );
  }
  return (
    <Async state={methods} label="Loading MFA methods…">
      {(list) =>
        list.length === 0 ? (
          <p className="muted">No MFA method is configured on this server.</p>
        ) : (
          <div className="factors">
            {list
              .filter((m) => m.type === 'webauthn')
              .map((m) => (
                <SecurityKeys key={m.id} method={m} />
              ))}
            {list
              .filter((m) => m.type === 'totp')
              .map((m) => (
                <TotpEnrol key={m.id} method={m} />
              ))}
          </div>
        )
      }
    </Async>
  );
}

export function Account() {
  const s = getSession();
  return (
    <Page title="Account">
      <div className="account">
        <dl className="who">
          <dt>Signed in as</dt>
          <dd>{s?.displayName}</dd>
          <dt>Policies</dt>
          <dd>{s?.policies.join(', ') || 'none'}</dd>
          <dt>Session ends</dt>
          <dd>{s?.expiresAt ? new Date(s.expiresAt).toLocaleString() : 'never (token without expiry)'}</dd>
        </dl>
        <h2>Second factors</h2>
        {s?.entityId ? (
          <Factors />
        ) : (
          <p className="banner warn">
            This token has no identity entity (a root token, or one made with auth/token/create): security keys and authenticator apps belong to an entity. Sign in
            with a user name and password or single sign-on to manage yours.
          </p>
        )}
      </div>
    </Page>
  );
}
