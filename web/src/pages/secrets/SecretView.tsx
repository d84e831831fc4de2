// One secret: its metadata, every version with its state and actions (delete / undelete / destroy,
// each confirmed), the selected version's values behind Reveal, and "Write new version".
import { useState } from 'react';
import { Async, useAsync } from '../../components/async.tsx';
import { ConfirmButton, Link, TableHead } from '../../components/ui.tsx';
import { navigate, useRoute } from '../../router.ts';
import { KvEditor, row } from './Editor.tsx';
import { deleteAll, readMeta, readValues, type SecretMeta, secretsTo, versionAction, versionState, writeValues } from './kv.ts';
import { Values } from './Values.tsx';

const when = (t: string): string => (t ? new Date(t).toLocaleString() : '—');

const BADGE = { current: 'ok', active: 'neutral', deleted: 'warn', destroyed: 'bad' } as const;

function MetaCard({ meta }: { meta: SecretMeta }) {
  const custom = Object.entries(meta.custom_metadata ?? {});
  return (
    <section aria-labelledby="meta-h" className="card">
      <h2 id="meta-h">Metadata</h2>
      <dl className="meta">
        <dt>Current version</dt>
        <dd>{meta.current_version}</dd>
        <dt>Oldest version</dt>
        <dd>{meta.oldest_version}</dd>
        <dt>Created</dt>
        <dd>{when(meta.created_time)}</dd>
        <dt>Updated</dt>
        <dd>{when(meta.updated_time)}</dd>
        <dt>Versions kept</dt>
        <dd>{meta.max_versions || 'mount default'}</dd>
        <dt>Check-and-set required</dt>
        <dd>{meta.cas_required ? 'yes' : 'no'}</dd>
        <dt>Custom metadata</dt>
        <dd>
          {custom.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="custom">
              {custom.map(([k, v]) => (
                <li key={k}>
                  <code>{k}</code> = <code>{v}</code>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    </section>
  );
}

function Versions(props: { mount: string; path: string; meta: SecretMeta; selected: number; onChanged: () => void }) {
  const { mount, path, meta } = props;
  const nums = Object.keys(meta.versions)
    .map(Number)
    .sort((a, b) => b - a);
  const act = (action: 'delete' | 'undelete' | 'destroy', n: number) => async () => {
    await versionAction(mount, path, action, n);
    props.onChanged();
  };
  return (
    <section aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      <table aria-label="Versions">
        <TableHead cols={['Version', 'Created', 'State', 'Actions']} />
        <tbody>
          {nums.map((n) => {
            const st = versionState(meta, n);
            const v = meta.versions[String(n)]!;
            return (
              <tr key={n} aria-current={n === props.selected ? 'true' : undefined}>
                <td>{n === props.selected ? <strong>v{n} (shown)</strong> : <Link to={secretsTo(mount + path, `?version=${n}`)}>{`View v${n}`}</Link>}</td>
                <td>{when(v.created_time)}</td>
                <td>
                  <span className={`badge ${BADGE[st]}`}>{st}</span>
                  {st === 'deleted' ? <span className="muted"> {when(v.deletion_time)}</span> : null}
                  {(st === 'current' || st === 'active') && v.deletion_time ? <span className="muted"> deleted after {when(v.deletion_time)}</span> : null}
                </td>
                <td className="row-actions">
                  {st === 'current' || st === 'active' ? (
                    <ConfirmButton label={`Delete v${n}`} title={`Delete version ${n}?`} body={<p>The version's values can no longer be read; Undelete brings them back.</p>} onConfirm={act('delete', n)} danger />
                  ) : null}
                  {st === 'deleted' ? <ConfirmButton label={`Undelete v${n}`} title={`Undelete version ${n}?`} body={<p>The version's values become readable again.</p>} onConfirm={act('undelete', n)} /> : null}
                  {st !== 'destroyed' ? (
                    <ConfirmButton label={`Destroy v${n}`} title={`Destroy version ${n}?`} body={<p>The version's values are erased for good: this cannot be undone.</p>} onConfirm={act('destroy', n)} danger />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function NewVersion({ mount, path, meta, onDone }: { mount: string; path: string; meta: SecretMeta; onDone: (v: number) => void }) {
  const [open, setOpen] = useState(false);
  const [rows, setRows] = useState(() => [row()]);
  const [loadError, setLoadError] = useState<string>('');
  const close = () => {
    setOpen(false);
    setRows([row()]);
  };
  const startFromCurrent = async () => {
    setLoadError('');
    try {
      const vals = await readValues(mount, path, meta.current_version);
      const r = Object.entries(vals).map(([k, v]) => row(k, typeof v === 'string' ? v : JSON.stringify(v)));
      setRows(r.length ? r : [row()]);
    } catch {
      setLoadError('The current version cannot be read (deleted, destroyed or not allowed): start from empty rows.');
    }
  };
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Write new version
      </button>
    );
  }
  return (
    <section aria-labelledby="newv-h">
      <h2 id="newv-h">New version (after v{meta.current_version})</h2>
      <KvEditor
        rows={rows}
        setRows={setRows}
        saveLabel="Save version"
        onCancel={close}
        onSave={async (data) => {
          const v = await writeValues(mount, path, data, meta.current_version);
          close();
          onDone(v);
        }}
      >
        <p className="muted">
          The new version replaces every value: start from the current ones to change a few.{' '}
          <button type="button" onClick={startFromCurrent}>
            Start from current values
          </button>
        </p>
        {loadError ? <p role="alert">{loadError}</p> : null}
      </KvEditor>
    </section>
  );
}

export function SecretView({ mount, path }: { mount: string; path: string }) {
  const route = useRoute();
  const meta = useAsync((signal) => readMeta(mount, path, signal), [mount, path]);
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  return (
    <>
      <div className="secret-head">
        <h2 className="secret-path">
          <code>{`${mount}${path}`}</code>
        </h2>
        <ConfirmButton
          label="Delete secret"
          title={`Delete ${mount}${path} for good?`}
          body={<p>Every version and the metadata are erased: this cannot be undone.</p>}
          confirmLabel="Delete all versions"
          danger
          onConfirm={async () => {
            await deleteAll(mount, path);
            navigate(secretsTo(mount + parent));
          }}
        />
      </div>
      <Async state={meta} label="Loading secret…">
        {(m) => {
          const selected = Number(route.query.get('version')) || m.current_version;
          const st = versionState(m, selected);
          return (
            <>
              <div className="grid">
                <MetaCard meta={m} />
                <Values key={selected} mount={mount} path={path} version={selected} readable={st === 'current' || st === 'active'} />
              </div>
              <NewVersion mount={mount} path={path} meta={m} onDone={(v) => {
                  navigate(secretsTo(mount + path, `?version=${v}`));
                  meta.reload();
                }} />
              <Versions mount={mount} path={path} meta={m} selected={selected} onChanged={meta.reload} />
            </>
          );
        }}
      </Async>
    </>
  );
}
