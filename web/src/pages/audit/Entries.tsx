// The entries table: newest first, one row per entry, "Details" expands the entry as written
// (sensitive values are HMAC'd by the server; nothing here reverses that).
import { Fragment, useState } from 'react';
import { TableHead } from '../../components/ui.tsx';
import type { AuditEntry } from './api.ts';

function outcome(e: AuditEntry): { text: string; cls: string } {
  if (e.type === 'request') return { text: 'request', cls: 'neutral' };
  const status = e.response?.status;
  if (e.error || (status !== undefined && status >= 400)) return { text: `${status ?? ''} ${e.error ?? ''}`.trim(), cls: 'bad' };
  return { text: String(status ?? 'ok'), cls: 'ok' };
}

export function Entries({ entries }: { entries: AuditEntry[] }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (k: string) => {
    const next = new Set(open);
    if (next.has(k)) next.delete(k);
    else next.add(k);
    setOpen(next);
  };
  if (entries.length === 0) return <p className="muted">No entry matches these filters.</p>;
  return (
    <table className="audit-entries">
      <TableHead cols={['Time', 'Type', 'Operation', 'Path', 'Who', 'Result', <span key="details" className="sr-only">Details</span>]} />
      <tbody>
        {entries.map((e, i) => {
          const k = `${e.seq ?? i}-${e.type}-${e.request.id}`;
          const o = outcome(e);
          const isOpen = open.has(k);
          return (
            <Fragment key={k}>
              <tr>
                <td className="nowrap">{new Date(e.time).toLocaleString()}</td>
                <td>{e.type}</td>
                <td>
                  <code>{e.request.operation}</code>
                </td>
                <td>
                  <code>{e.request.path}</code>
                </td>
                <td>{e.request.auth?.display_name ?? <span className="muted">no token</span>}</td>
                <td>
                  <span className={`badge ${o.cls}`}>{o.text}</span>
                </td>
                <td>
                  <button type="button" aria-expanded={isOpen} aria-controls={`entry-${k}`} aria-label={`Details of ${e.type} ${e.request.path} at ${e.time}`} onClick={() => toggle(k)}>
                    Details
                  </button>
                </td>
              </tr>
              {isOpen ? (
                <tr id={`entry-${k}`}>
                  <td colSpan={7}>
                    <pre className="mono entry-json">
                      {JSON.stringify(e, null, 2)}
                    </pre>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
