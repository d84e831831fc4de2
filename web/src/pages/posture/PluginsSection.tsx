// KMS plugins of a cluster (`arca kms-plugin --report-interval`): health and key_id per node, and
// the report's age; a report older than STALE_AFTER intervals says the plugin may be gone.
import { ErrorBanner } from '../../components/async.tsx';
import { TableHead } from '../../components/ui.tsx';
import { DEFAULT_INTERVAL_MS, formatDuration, formatTime, freshness, STALE_AFTER } from './derive.ts';
import type { PluginEntry } from './load.ts';
import { Badge, Command } from './parts.tsx';

export function PluginsSection({ cluster, plugins, now }: { cluster: string; plugins: PluginEntry[]; now: number }) {
  return (
    <section className="card posture-card" aria-labelledby="posture-plugins">
      <h3 id="posture-plugins">KMS plugins</h3>
      {plugins.length === 0 ? (
        <div className="muted">
          <p>No KMS plugin reports for this cluster. Start each plugin with:</p>
          <Command>{`arca kms-plugin … --report-interval 1m --cluster ${cluster}`}</Command>
        </div>
      ) : (
        <>
          <table aria-label="KMS plugins by node">
            <TableHead cols={['Node', 'Health', 'key_id', 'KEK', 'Last report']} />
            <tbody>
              {plugins.map((p) => {
                const node = p.source.slice('kms-plugin.'.length);
                if (p.report.state !== 'ok') {
                  return (
                    <tr key={p.source}>
                      <th scope="row">{node}</th>
                      <td colSpan={4}>{p.report.state === 'error' ? <ErrorBanner error={p.report.error} /> : 'no report stored'}</td>
                    </tr>
                  );
                }
                const r = p.report.value;
                const f = freshness(r.at, p.versionTimes, now);
                return (
                  <tr key={p.source}>
                    <th scope="row">{r.node || node}</th>
                    <td>{r.healthz === 'ok' ? <Badge tone="ok">healthy</Badge> : <Badge tone="bad">unhealthy: {r.healthz || 'no status'}</Badge>}</td>
                    <td>
                      <code>{r.keyId || '—'}</code>
                    </td>
                    <td>
                      <code>{r.source}</code>
                      {r.version ? <small className="muted"> · KMS API {r.version}</small> : null}
                    </td>
                    <td>
                      {formatDuration(f.ageMs)} ago <small className="muted">({formatTime(r.at)})</small>{' '}
                      {f.stale ? <Badge tone="warn">stale report</Badge> : <Badge tone="ok">fresh</Badge>}
                      <br />
                      <small className="muted">
                        stale after {formatDuration(f.thresholdMs)} (interval {f.estimated ? '' : 'assumed '}
                        {formatDuration(f.intervalMs)})
                      </small>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="muted">
            A plugin report is stale when it is older than {STALE_AFTER} report intervals. Reports do not carry their interval: it is the median
            gap between the report’s stored versions, or {formatDuration(DEFAULT_INTERVAL_MS)} (the documented <code>--report-interval</code>)
            while only one version is stored.
          </p>
        </>
      )}
    </section>
  );
}
