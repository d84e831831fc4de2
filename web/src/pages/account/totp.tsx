// Self-enrolment in a TOTP method: the QR code (a data: PNG, which the CSP allows), the otpauth URL
// behind a disclosure, and the recovery codes, shown once and kept only in this component's state.
import { useState } from 'react';
import { enrolTotp, type MfaMethodInfo, type TotpEnrolment } from '../../api/mfa.ts';
import { ConfirmButton } from '../../components/ui.tsx';

export function TotpEnrol({ method }: { method: MfaMethodInfo }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const title = method.name || method.id;
  return (
    <section className="card" aria-labelledby={`totp-${method.id}`}>
      <h3 id={`totp-${method.id}`}>Authenticator app · {title}</h3>
      {enrolment ? (
        <div className="totp-enrolment">
          <p className="banner warn" role="status">
            Scan this code with your authenticator app now and save the recovery codes: they are shown only once.
          </p>
          <img src={`data:image/png;base64,${enrolment.barcode}`} alt="QR code to scan with your authenticator app" width={200} height={200} />
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
          <ConfirmButton
            label="Set up authenticator app"
            title="Set up a new authenticator app?"
            body="This replaces the app already set up for this method, if any: its codes and recovery codes stop working."
            confirmLabel="Set up"
            onConfirm={async () => setEnrolment(await enrolTotp(method.id))}
          />
        </>
      )}
    </section>
  );
}
