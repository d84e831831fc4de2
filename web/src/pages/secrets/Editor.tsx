// Key/value rows for writing a version. The values live only in this component's state while the
// form is open (never in storage); saving sends them once, with check-and-set on the version shown.
import { type FormEvent, type ReactNode, useState } from 'react';
import { ErrorBanner } from '../../components/async.tsx';
import { TableHead } from '../../components/ui.tsx';

export interface Row {
  id: number;
  key: string;
  value: string;
}

let nextId = 1;
export const row = (key = '', value = ''): Row => ({ id: nextId++, key, value });

/** Rows → the data object; answers a message for what to fix instead when they cannot be sent. */
export function rowsToData(rows: Row[]): Record<string, string> | string {
  const data: Record<string, string> = {};
  for (const [i, r] of rows.entries()) {
    const k = r.key.trim();
    if (!k && !r.value) continue;
    if (!k) return `Row ${i + 1} has a value but no key: name it or clear it.`;
    if (Object.hasOwn(data, k)) return `Key "${k}" appears twice: keys must be unique.`;
    data[k] = r.value;
  }
  if (Object.keys(data).length === 0) return 'Add at least one key and value.';
  return data;
}

export function KvEditor(props: {
  rows: Row[];
  setRows: (rows: Row[]) => void;
  saveLabel: string;
  onSave: (data: Record<string, string>) => Promise<void>;
  onCancel: () => void;
  children?: ReactNode;
}) {
  const { rows, setRows } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (id: number, patch: Partial<Row>) => setRows(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const data = rowsToData(rows);
    if (typeof data === 'string') {
      setError(new Error(data));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.onSave(data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="kv-editor card" onSubmit={submit}>
      {props.children}
      <table>
        <TableHead cols={['Key', 'Value', <span key="remove" className="sr-only">Remove</span>]} />
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.id}>
              <td>
                <input aria-label={`Key ${i + 1}`} value={r.key} autoComplete="off" spellCheck={false} onChange={(e) => set(r.id, { key: e.target.value })} />
              </td>
              <td>
                <input aria-label={`Value ${i + 1}`} value={r.value} autoComplete="off" spellCheck={false} onChange={(e) => set(r.id, { value: e.target.value })} />
              </td>
              <td>
                <button type="button" aria-label={`Remove row ${i + 1}`} disabled={rows.length === 1} onClick={() => setRows(rows.filter((x) => x.id !== r.id))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => setRows([...rows, row()])}>
        Add row
      </button>
      {error ? <ErrorBanner error={error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : props.saveLabel}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
