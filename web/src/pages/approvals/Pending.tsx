// Pending requests for approvers: who asked what and when, approvals so far per factor, Approve
// (with step-up: a second factor for a fresh token when a factor needs a recent MFA login).
import { useEffect, useRef, useState } from 'react';
import { startSession } from '../../api/auth.ts';
import { ApiError, type MfaRequirement } from '../../api/client.ts';
import { Async, ErrorBanner, useAsync } from '../../components/async.tsx';
import { MfaPrompt } from '../../components/mfa.tsx';
import { TableHead } from '../../components/ui.tsx';
import { authorize, type Factor, formatTime, formatWindow, listPending, needsStepUp, type PendingRequest, stepUp } from './api.ts';

function FactorCell({ f }: { f: Factor }) {
  const met = f.have >= f.need;
  return (
    <div>
      <span className={`badge ${met ? 'ok' : 'warn'}`}>
        {f.name}: {f.have} / {f.need}
      </span>
      {f.require_mfa_within ? <small className="muted"> needs MFA within {formatWindow(f.require_mfa_within)}</small> : null}
    </div>
  );
}

export function Pending() {
  const state = useAsync(async (signal) => {
    try {
      return await listPending(signal);
    } catch (err) {
      if (isNotApprover(err)) return null;
      throw err;
    }
  }, []);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [step, setStep] = useState<{ accessor: string; requirement: MfaRequirement } | null>(null);
  const stepRef = useRef<HTMLElement>(null);
  // Keyboard users land in the prompt, not on the Approve button it appeared above.
  useEffect(() => {
    if (step) stepRef.current?.querySelector<HTMLElement>('input, button')?.focus();
  }, [step]);

  const approve = async (r: PendingRequest) => {
    setBusy(r.accessor);
    setError(null);
    setNotice(null);
    try {
      const res = await authorize(r.accessor);
      setNotice(res.approved ? `Approved: ${r.request_path} now has every approval it needs; ${r.request_entity.name || 'the requester'} can run it.` : `Your approval of ${r.request_path} was recorded; more approvals are needed.`);
      setStep(null);
      state.reload();
    } catch (err) {
      if (needsStepUp(err) && !step) {
        try {
          setStep({ accessor: r.accessor, requirement: await stepUp() });
        } catch (e) {
          setError(e);
        }
      } else setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="pending-h">
      <h2 id="pending-h">Waiting for approval</h2>
      {notice ? (
        <div className="banner ok" role="status">
          {notice}
        </div>
      ) : null}
      {error ? <ErrorBanner error={error} /> : null}
      {step ? (
        <section ref={stepRef} className="card step-up" aria-label="Step-up">
          <p>This approval needs a recent second-factor login. Confirm it is you to get a fresh token (it replaces this session’s token), then the approval is sent again.</p>
          <MfaPrompt
            requirement={step.requirement}
            onCancel={() => setStep(null)}
            onAuth={(auth) => {
              const token = auth.client_token;
              if (!token) return setError(new Error('The second factor was accepted but no token came back.'));
              void startSession(token).then(() => {
                const r = state.data?.find((x) => x.accessor === step.accessor);
                setStep(null);
                if (r) void approve(r);
              }, setError);
            }}
          />
        </section>
      ) : null}
      <Async state={state} label="Loading pending requests…">
        {(rows) =>
          rows === null ? (
            <p className="muted">Your policies do not let you list pending requests (LIST on sys/control-group/requests): you are not an approver.</p>
          ) : rows.length === 0 ? (
            <p className="muted">No request is waiting for approval.</p>
          ) : (
            <PendingTable rows={rows} busy={busy} onApprove={approve} />
          )
        }
      </Async>
    </section>
  );
}

function PendingTable({ rows, busy, onApprove }: { rows: PendingRequest[]; busy: string | null; onApprove: (r: PendingRequest) => void }) {
  return (
    <table>
      <caption className="muted">Requests held by a control group until enough approvers agree</caption>
      <TableHead cols={['Requested by', 'Operation', 'Requested', 'Expires', 'Approvals', 'Action']} />
      <tbody>
        {rows.map((r) => (
          <tr key={r.accessor}>
            <td>{r.request_entity.name || <span className="muted">{r.request_entity.id || 'unknown'}</span>}</td>
            <td>
              <code>{r.request_operation}</code> <code>{r.request_path}</code>
              <div className="muted mono small">request {r.accessor}</div>
            </td>
            <td>{formatTime(r.creation_time)}</td>
            <td>{formatTime(r.expire_time)}</td>
            <td>
              {r.factors.map((f) => (
                <FactorCell key={f.name} f={f} />
              ))}
              {r.authorizations.length ? <div className="muted">by {r.authorizations.map((a) => a.entity_name || a.entity_id).join(', ')}</div> : null}
            </td>
            <td>
              {r.approved ? (
                <span className="badge ok">Approved: waiting for the requester to run it</span>
              ) : (
                <button type="button" className="primary" disabled={busy === r.accessor} aria-label={`Approve ${r.request_operation} ${r.request_path} requested by ${r.request_entity.name || 'unknown'}`} onClick={() => onApprove(r)}>
                  Approve
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A 403 on the list: the caller is not an approver (shown as a note, not as an error). */
export function isNotApprover(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403 && err.code === 'ERR_PERMISSION_DENIED';
}
