// "Which clusters' KMS plugins report which key_id": the plugins' posture reports, per cluster and
// node, with the transit key version each key_id names when it is one of the known keys' version_ids.
import { Async, useAsync } from '../../components/async.tsx';
import { Link, TableHead } from '../../components/ui.tsx';
import { type KeyVersionRef, pluginReports } from './transit.ts';

const when = (t: string): string => (t ? new Date(t).toLocaleString() : '—');

function Health({ h }: { h: string }) {
  return <span className={`badge ${h === 'ok' ? 'ok' : 'bad'}`}>{h === 'ok' ? 'healthy' : h || 'unknown'}</span>;
}

function Version({ at }: { at: KeyVersionRef | undefined }) {
  if (!at) return <span className="muted">not a version of a key listed here</span>;
  const stale = at.version < at.latest;
  return (
    <>
      <Link to={`keys/${at.mount}${at.name}`}>{`${at.mount}${at.name}`}</Link> v{at.version}{' '}
      <span className={`badge ${stale ? 'warn' : 'ok'}`}>{stale ? `behind latest v${at.latest}` : 'latest'}</span>
    </>
  );
}

/**
 * Reports table. `resolve` maps a key_id to its key version; `only` keeps the reports of one key
 * (the key page), saying how many other reports there are.
 */
export function Plugins({ resolve, only }: { resolve: (keyId: string) => KeyVersionRef | undefined; only?: (r: KeyVersionRef | undefined) => boolean }) {
  const reports = useAsync((signal) => pluginReports(signal), []);
  return (
    <section aria-labelledby="plugins-h">
      <h2 id="plugins-h">KMS plugins</h2>
      <Async state={reports} label="Loading KMS plugin reports…">
        {(all) => {
          if (all === 'forbidden') {
            return (
              <p className="muted">
                Your token may not read the KMS plugins' reports: they need <code>read</code> on <code>posture/search</code> and <code>posture/data/*</code>.
              </p>
            );
          }
          if (all === null || all.length === 0) {
            return (
              <p>
                No reports yet: KMS plugins report their key_id and health with <code>arca kms-plugin … --report-interval 1m --cluster &lt;name&gt;</code> to the{' '}
                <code>posture</code> KV mount.
              </p>
            );
          }
          const shown = only ? all.filter((r) => only(resolve(r.keyId))) : all;
          const others = all.length - shown.length;
          return (
            <>
              {shown.length === 0 ? <p>No KMS plugin reports a key_id of this key.</p> : null}
              {shown.length > 0 ? (
                <table aria-label="KMS plugin reports">
                  <TableHead cols={['Cluster', 'Node', 'Health', 'key_id', 'Transit key version', 'Reported']} />
                  <tbody>
                    {shown.map((r) => (
                      <tr key={`${r.cluster}/${r.node}`}>
                        <td>{r.cluster}</td>
                        <td>
                          {r.node}
                          {r.source ? <div className="muted small">{r.source}</div> : null}
                        </td>
                        <td>
                          <Health h={r.healthz} />
                        </td>
                        <td>
                          <code className="key-id">{r.keyId || '—'}</code>
                        </td>
                        <td>
                          <Version at={resolve(r.keyId)} />
                        </td>
                        <td>{when(r.at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
              {only && others > 0 ? (
                <p className="muted">
                  {others === 1 ? '1 other report names' : `${others} other reports name`} other keys: <Link to="keys">see all</Link>.
                </p>
              ) : null}
            </>
          );
        }}
      </Async>
    </section>
  );
}
