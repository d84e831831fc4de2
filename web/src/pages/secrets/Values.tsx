// One version's values, hidden until Reveal: fetched on the click, held in this component's state
// only (gone on Hide, on another version, on leaving the page), never written to any storage.
import { useState } from 'react';
import { ErrorBanner } from '../../components/async.tsx';
import { TableHead } from '../../components/ui.tsx';
import { readValues } from './kv.ts';

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function CopyButton({ name, value }: { name: string; value: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setSaid('Copied');
    } catch {
      setSaid('The browser refused the clipboard: select the value and copy it by hand.');
    }
  };
  return (
    <>
      <button type="button" onClick={copy} aria-label={`Copy ${name}`}>
        Copy
      </button>{' '}
      <span role="status" className="muted">
        {said}
      </span>
    </>
  );
}

export function Values({ mount, path, version, readable }: { mount: string; path: string; version: number; readable: boolean }) {
  const [values, setValues] = useState<Record<string, unknown> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reveal = async () => {
    setBusy(true);
    setError(null);
    try {
      setValues(await readValues(mount, path, version));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="values-h" className="card values">
      <h2 id="values-h">Values of version {version}</h2>
      {!readable ? (
        <p>This version was deleted or destroyed: it has no values to show.</p>
      ) : values === null ? (
        <>
          <p className="muted">Values are hidden. They are fetched when you reveal them and are not kept anywhere.</p>
          <button type="button" className="primary" onClick={reveal} disabled={busy}>
            {busy ? 'Revealing…' : 'Reveal'}
          </button>
        </>
      ) : (
        <>
          <table aria-label={`Values of version ${version}`}>
            <TableHead cols={['Key', 'Value', 'Copy']} />
            <tbody>
              {Object.entries(values).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <code className="secret-value">{show(v)}</code>
                  </td>
                  <td>
                    <CopyButton name={k} value={show(v)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => setValues(null)}>
            Hide
          </button>
        </>
      )}
      {error ? <ErrorBanner error={error} /> : null}
    </section>
  );
}
