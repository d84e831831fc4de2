// "My requests": operations this tab asked for that a control group held (api/requests.ts keeps
// their wrapping tokens for the tab's life). Status from sys/control-group/request; Run once approved.
import { useState } from 'react';
import { type HeldRequest, heldRequests, runHeldRequest } from '../../api/requests.ts';
import { ErrorBanner, useAsync } from '../../components/async.tsx';
import { TableHead } from '../../components/ui.tsx';
import { formatTime, type PendingRequest, requestStatus } from './api.ts';

type Status = { kind: 'ok'; view: PendingRequest } | { kind: 'unknown'; error: unknown };

async function statuses(list: HeldRequest[]): Promise<Record<string, Status>> {
  const out: Record<string, Status> = {};
  await Promise.all(
    list.map(async (h) => {
      try {
        out[h.accessor] = { kind: 'ok', view: await requestStatus(h.accessor) };
      } catch (error) {
        out[h.accessor] = { kind: 'unknown', error };
      }
    }),
  );
  return out;
}

function StatusBadge({ s }: { s: Status | undefined }) {
  if (!s) return <span className="badge neutral">Checking…</span>;
  if (s.kind === 'unknown') return <span className="badge neutral">Status unknown</span>;
  if (s.view.expired) return <span className="badge bad">Expired</span>;
  if (s.view.approved) return <span className="badge ok">Approved</span>;
  const f = s.view.factors.map((x) => `${x.have}/${x.need}`).join(', ');
  return <span className="badge warn">Pending ({f})</span>;
}

export function Mine() {
  const [list, setList] = useState(heldRequests);
  const state = useAsync(() => statuses(list), [list]);
  const [ran, setRan] = useState<{ what: string; result: Record<string, unknown> } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const run = async (h: HeldRequest) => {
    setBusy(h.accessor);
    setError(null);
    try {
      const result = await runHeldRequest(h.accessor);
      setRan({ what: h.what, result });
      setList(heldRequests());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="mine-h">
      <h2 id="mine-h">My requests</h2>
      {ran ? (
        <div className="banner ok" role="status">
          <span>
            <strong>{ran.what}</strong> ran.
          </span>
          <details>
            <summary>Show the response</summary>
            <pre className="mono">{JSON.stringify(ran.result.data ?? null, null, 2)}</pre>
          </details>
        </div>
      ) : null}
      {error ? <ErrorBanner error={error} /> : null}
      {list.length === 0 ? (
        <p className="muted">No request of yours is held in this browser tab. Operations that need approval show up here when you make them (they can only be run from the tab that made them).</p>
      ) : (
        <table>
          <TableHead cols={['What', 'Requested', 'Status', 'Action']} />
          <tbody>
            {list.map((h) => {
              const s = state.data?.[h.accessor];
              const runnable = !s || s.kind === 'unknown' || (s.view.approved && !s.view.expired);
              return (
                <tr key={h.accessor}>
                  <td>
                    {h.what}
                    <div className="muted mono small">
                      {h.path} · request {h.accessor}
                    </div>
                  </td>
                  <td>{formatTime(h.createdAt)}</td>
                  <td>
                    <StatusBadge s={state.status === 'loading' ? undefined : s} />
                  </td>
                  <td>
                    <button type="button" className="primary" disabled={!runnable || busy === h.accessor} aria-label={`Run ${h.what}`} onClick={() => void run(h)}>
                      Run
                    </button>{' '}
                    <button type="button" onClick={state.reload}>
                      Refresh
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
