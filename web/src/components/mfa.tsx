// The second-factor prompt: one choice per constraint of an `mfa_requirement` (a TOTP code typed in,
// or "Use security key" for WebAuthn), then sys/mfa/validate. Used by login and by step-up.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, type MfaRequirement } from '../api/client.ts';
import { type MfaAnswers, type MfaMethod, validateMfa, webauthnAssertion } from '../api/mfa.ts';
import { ErrorBanner } from './async.tsx';
import { Field } from './ui.tsx';

/** A refused second factor in words (the server's one message covers every cause, on purpose). */
function mfaError(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (err.code === 'ERR_MFA_INVALID') {
    return new ApiError(err.status, err.code, 'The second factor was refused: the code is wrong, expired or already used, or the security key did not match. Try again; after 5 failures, cancel and sign in again.');
  }
  return err;
}

/** The server lists the entity's keys in allowCredentials: none means nothing can answer. */
function hasKeys(m: MfaMethod): boolean {
  const allow = (m.webauthn_options as { allowCredentials?: unknown[] } | undefined)?.allowCredentials;
  return !Array.isArray(allow) || allow.length > 0;
}

/** A security-key ceremony that failed in the browser (or was refused by the server), in words. */
export function securityKeyError(err: unknown): unknown {
  if (err instanceof ApiError) return mfaError(err);
  if (!(err instanceof Error)) return err;
  if (err.name === 'InvalidStateError') return new Error('This security key is already registered here.');
  if (err.name === 'NotAllowedError' || err.name === 'AbortError') return new Error('The security key did not answer (cancelled, timed out, or not a key registered here). Try again.');
  if (err.name === 'SecurityError') return new Error('The browser refused the security key for this site: the WebAuthn method’s RP ID or origins do not match this page’s address.');
  return err;
}

export function MfaPrompt({ requirement, onAuth, onCancel }: { requirement: MfaRequirement; onAuth: (auth: Record<string, unknown> & { client_token?: string }) => void; onCancel?: () => void }) {
  const [codes, setCodes] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  // The button that led here is gone: keyboard users start at the first code field or key button.
  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('input, button')?.focus();
  }, []);
  const constraints = Object.entries(requirement.mfa_constraints);

  const finish = async (answers: MfaAnswers) => {
    setBusy(true);
    setError(null);
    try {
      onAuth(await validateMfa(requirement, answers));
    } catch (err) {
      setError(mfaError(err));
    } finally {
      setBusy(false);
    }
  };
  // TOTP codes typed for every constraint that has a TOTP method; a security key answers the rest.
  const answersFromCodes = (): MfaAnswers | undefined => {
    const a: MfaAnswers = {};
    for (const [name, c] of constraints) {
      const totp = c.any.find((m) => m.type === 'totp' && codes[m.id]?.trim());
      if (!totp) return undefined;
      a[name] = { methodId: totp.id, payload: codes[totp.id]!.trim() };
    }
    return a;
  };
  const submitCodes = (e: FormEvent) => {
    e.preventDefault();
    const a = answersFromCodes();
    if (a) void finish(a);
    else setError(new Error('Enter the code from your authenticator app.'));
  };
  const answerWithKey = async (m: MfaMethod, name: string) => {
    setError(null);
    try {
      const payload = await webauthnAssertion(m);
      // Other constraints (rare) still need their code.
      const a: MfaAnswers = { [name]: { methodId: m.id, payload } };
      for (const [n, c] of constraints) {
        if (n === name) continue;
        const totp = c.any.find((x) => x.type === 'totp' && codes[x.id]?.trim());
        if (!totp) return setError(new Error(`Also answer "${n}" with a code.`));
        a[n] = { methodId: totp.id, payload: codes[totp.id]!.trim() };
      }
      await finish(a);
    } catch (err) {
      setError(securityKeyError(err));
    }
  };

  return (
    <form ref={formRef} onSubmit={submitCodes} aria-label="Second factor">
      <h2>Second factor</h2>
      {constraints.map(([name, c]) => (
        <fieldset key={name}>
          <legend>{constraints.length > 1 ? `Required: ${name}` : 'Confirm it is you'}</legend>
          {c.any.map((m) =>
            m.type === 'totp' ? (
              <Field key={m.id} label={`Authentication code${m.name ? ` (${m.name})` : ''}`} hint="6 digits from your authenticator app">
                {(id) => (
                  <input
                    id={id}
                    name={`totp-${m.id}`}
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    pattern="[0-9]{6}"
                    value={codes[m.id] ?? ''}
                    onChange={(e) => setCodes({ ...codes, [m.id]: e.target.value })}
                  />
                )}
              </Field>
            ) : m.type === 'webauthn' && !hasKeys(m) ? (
              <p key={m.id} className="banner warn">
                No security key of yours is registered{m.name ? ` for ${m.name}` : ''}: register one from your account page after signing in, or ask an
                administrator.
              </p>
            ) : m.type === 'webauthn' ? (
              <p key={m.id}>
                <button type="button" className="primary" disabled={busy} onClick={() => void answerWithKey(m, name)}>
                  Use security key{m.name ? ` (${m.name})` : ''}
                </button>
              </p>
            ) : (
              <p key={m.id}>Method type {m.type} is not supported by this UI.</p>
            ),
          )}
        </fieldset>
      ))}
      {error ? <ErrorBanner error={error} /> : null}
      <div className="actions">
        {constraints.some(([, c]) => c.any.some((m) => m.type === 'totp')) ? (
          <button type="submit" className="primary" disabled={busy}>
            Verify code
          </button>
        ) : null}
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
