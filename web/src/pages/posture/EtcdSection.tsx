// Encryption of etcd data from the latest `arca etcd scan --report`: counts per state, per resource
// (a resource with plaintext or undecryptable values is flagged in words), per provider/key, and
// the history of earlier scans.

import { TableHead } from '../../components/ui.tsx';
import { type Counts, formatTime, type ScanReport, STATE_LABELS, STATE_TEXT, STATES } from './derive.ts';
import { ScanHistory } from './History.tsx';
import type { Got } from './load.ts';
import { Badge, Command, ReportCard } from './parts.tsx';

function StateCounts({ counts }: { counts: Counts }) {
  return (
    <ul className="posture-states" aria-label="Objects by state">
      {STATES.map((s) => {
        const t = STATE_TEXT[s];
        const n = counts[s];
        // Bad states are red only when they hold something: a zero is good news.
        const tone = n === 0 && t.tone !== 'ok' ? 'neutral' : t.tone;
        return (
          <li key={s} className={`posture-state ${tone}`}>
            <span className="count">{n}</span> <Badge tone={tone}>{t.label}</Badge>
            <small>{t.meaning}</small>
          </li>
        );
      })}
    </ul>
  );
}

function ResourceTable({ scan }: { scan: ScanReport }) {
  const rows = Object.entries(scan.byResource).sort((a, b) => a[0].localeCompare(b[0]));
  return (
    <table aria-label="Objects by resource">
      <TableHead cols={['Resource', ...STATE_LABELS, 'Total']} />
      <tbody>
        {rows.map(([r, c]) => {
          const total = STATES.reduce((n, s) => n + c[s], 0);
          return (
            <tr key={r}>
              <th scope="row">
                {r}{' '}
                {c.plaintext > 0 ? <Badge tone="bad">has plaintext</Badge> : null} {c.undecryptable > 0 ? <Badge tone="bad">has undecryptable</Badge> : null}{' '}
                {c.plaintext === 0 && c.undecryptable === 0 && c.stale > 0 ? <Badge tone="warn">needs rewrite</Badge> : null}
              </th>
              {STATES.map((s) => (
                <td key={s} className={c[s] > 0 && STATE_TEXT[s].tone === 'bad' ? 'posture-bad-cell' : undefined}>
                  {c[s]}
                </td>
              ))}
              <td>{total}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ProviderTable({ scan }: { scan: ScanReport }) {
  const rows = Object.entries(scan.byProvider).flatMap(([p, keys]) => Object.entries(keys).map(([k, n]) => ({ p, k, n })));
  if (rows.length === 0) return null;
  return (
    <table aria-label="Objects by provider and key" className="posture-compact">
      <TableHead cols={['Provider', 'Key name or KMS key_id', 'Objects']} />
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.p}/${r.k}`}>
            <td>{r.p}</td>
            <td>
              <code>{r.k || '—'}</code>
            </td>
            <td>{r.n}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EtcdSection({ mount, cluster, got }: { mount: string; cluster: string; got: Got<ScanReport> }) {
  return (
    <ReportCard
      id="posture-etcd"
      title="Encryption of etcd data"
      got={got}
      absent={
        <>
          <p>No etcd scan reported for this cluster. On a control-plane node:</p>
          <Command>{`arca etcd scan --endpoints … --encryption-config … --report --cluster ${cluster}`}</Command>
        </>
      }
    >
      {(scan) => (
        <>
          <StateCounts counts={scan.byState} />
          <p className="muted">
            {scan.total} objects scanned, {formatTime(scan.at)}.
          </p>
          <ResourceTable scan={scan} />
          <ProviderTable scan={scan} />
          {scan.objects?.length ? (
            <details>
              <summary>Objects not on the current key ({scan.objects.length})</summary>
              <ul>
                {scan.objects.map((o) => (
                  <li key={o.key}>
                    <code>{o.key}</code> — {o.state}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          <ScanHistory mount={mount} cluster={cluster} />
        </>
      )}
    </ReportCard>
  );
}
