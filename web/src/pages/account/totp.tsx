// Self-enrolment in a TOTP method: the QR code (a data: PNG, which the CSP allows), the otpauth URL
// behind a disclosure, and the recovery codes, shown once and kept only in this component's state.
import { useState } from 'react';
import { enrolTotp, type MfaMethodInfo, type TotpEnrolment } from '../../api/mfa.ts';
import { ErrorBanner } from '../../components/async.tsx';

export function TotpEnrol({ method }: { method: MfaMethodInfo }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The server refuses a second enrolment (an administrator destroys the first): nothing to confirm.
  const enrol = async () => {
    setBusy(true);
    setError(null);
    try {
      setEnrolment(await enrolTotp(method.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const title = method.name || method.id;
  return (
    <section className="card" aria-labelledby={`totp-${method.id}`}>
      <h3 id={`totp-${method.id}`}>Authenticator app · {title}</h3>
      {enrolment ? (
        <div className="totp-enrolment">
          <p className="banner warn" role="status">
            Scan this code with your authenticator app now and save the recovery codes: they are shown only once.
          </p>
          <img src={`data:image/png;base64,${enrolment.barcode}`} alt="QR code to scan with your authenticator app" width={168} height={168} />
          <details>
            <summary>Cannot scan? Show the setup link</summary>
            <code className="wrap">{enrolment.url}</code>
          </details>
          <h4>Recovery codes</h4>
          <ul className="recovery">
            {enrolment.recovery_codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setEnrolment(null)}>
            Done, hide the codes
          </button>
        </div>
      ) : (
        <>
          <p className="muted">Codes from an authenticator app (TOTP) as the second factor.</p>
          {error ? <ErrorBanner error={error} /> : null}
          <button type="button" className="primary" disabled={busy} onClick={() => void enrol()}>
            {busy ? 'Setting up…' : 'Set up authenticator app'}
          </button>
        </>
      )}
    </section>
  );
}
