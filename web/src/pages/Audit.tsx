// Audit: the most recent entries of a file audit device with filters, each expandable, and whether
// the log's hash chain verifies (sys/audit-log). Filters live in the URL, so a link opens a view.
import { type FormEvent, useState } from 'react';
import { Async, useAsync } from '../components/async.tsx';
import { Field, Page } from '../components/ui.tsx';
import { navigate, useRoute } from '../router.ts';
import { type Filters, fileDevices, filtersFrom, filtersQuery, readLog } from './audit/api.ts';
import { Entries } from './audit/Entries.tsx';
import { VerificationBadge } from './audit/Verification.tsx';
import './audit/audit.css';

export function Audit() {
  const route = useRoute();
  const applied = filtersFrom(route.query);
  const key = filtersQuery(applied);
  const devices = useAsync((signal) => fileDevices(signal), []);
  const log = useAsync((signal) => readLog(filtersFrom(new URLSearchParams(key)), signal), [key]);
  return (
    <Page title="Audit">
      <FilterForm key={key} initial={applied} devices={devices.data ?? []} onApply={(f) => navigate(`audit${filtersQuery(f) ? `?${filtersQuery(f)}` : ''}`, true)} />
      <Async state={log} label="Reading the audit log…">
        {(l) => (
          <>
            <VerificationBadge v={l.verification} device={l.device} onSigned={log.reload} />
            <p className="muted">
              {l.entries.length} matching {l.entries.length === 1 ? 'entry' : 'entries'} of <code>{l.device}</code>, newest first
              {l.limit_reached ? ' (older ones exist: raise the limit or narrow the filters)' : ''}. Sensitive values appear as <code>hmac-sha256:…</code>: find one with{' '}
              <code>sys/audit-hash</code>.
            </p>
            <Entries entries={l.entries} />
          </>
        )}
      </Async>
    </Page>
  );
}

function FilterForm({ initial, devices, onApply }: { initial: Filters; devices: string[]; onApply: (f: Filters) => void }) {
  const [f, setF] = useState(initial);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <form className="audit-filters card" onSubmit={submit} aria-label="Filter audit entries">
      {devices.length > 1 ? (
        <Field label="Device">
          {(id) => (
            <select id={id} value={f.device} onChange={(e) => setF({ ...f, device: e.target.value })}>
              <option value="">(choose)</option>
              {devices.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Field label="Path prefix">{(id) => <input id={id} value={f.path_prefix} placeholder="e.g. transit/keys/" onChange={(e) => setF({ ...f, path_prefix: e.target.value })} />}</Field>
      <Field label="Operation">
        {(id) => (
          <select id={id} value={f.operation} onChange={(e) => setF({ ...f, operation: e.target.value })}>
            <option value="">any</option>
            {['read', 'list', 'write', 'create', 'update', 'patch', 'delete'].map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Type">
        {(id) => (
          <select id={id} value={f.type} onChange={(e) => setF({ ...f, type: e.target.value as Filters['type'] })}>
            <option value="">requests and responses</option>
            <option value="request">requests</option>
            <option value="response">responses</option>
          </select>
        )}
      </Field>
      <Field label="Limit">{(id) => <input id={id} type="number" min={1} max={1000} value={f.limit} onChange={(e) => setF({ ...f, limit: Math.min(1000, Math.max(1, Number(e.target.value) || 100)) })} />}</Field>
      <label className="check">
        <input type="checkbox" checked={f.errors_only} onChange={(e) => setF({ ...f, errors_only: e.target.checked })} /> Errors only
      </label>
      <div className="actions">
        <button type="submit" className="primary">
          Apply filters
        </button>
      </div>
    </form>
  );
}
