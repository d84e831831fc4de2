// Hardening findings from `arca check --report`: failed findings counted per severity, then listed
// worst first (id and severity; evidence only exists when the report was sent with details).

import { TableHead } from '../../components/ui.tsx';
import { type CheckReport, failedFindings, SEVERITIES, severityTone } from './derive.ts';
import type { Got } from './load.ts';
import { Badge, Command, ReportCard } from './parts.tsx';

function Findings({ check }: { check: CheckReport }) {
  const failed = failedFindings(check);
  const statuses = Object.entries(check.byStatus).sort((a, b) => a[0].localeCompare(b[0]));
  return (
    <>
      <ul className="posture-severities" aria-label="Failed findings by severity">
        {SEVERITIES.map((s) => {
          const n = check.failedBySeverity[s] ?? 0;
          return (
            <li key={s}>
              <Badge tone={n > 0 ? severityTone(s) : 'neutral'}>
                {s}: {n}
              </Badge>
            </li>
          );
        })}
      </ul>
      <p className="muted">
        {check.findings.length} checks: {statuses.map(([st, n]) => `${n} ${st}`).join(', ') || 'none'}.
      </p>
      {failed.length === 0 ? (
        <p>No failed findings.</p>
      ) : (
        <table aria-label="Failed findings" className="posture-compact">
          <TableHead cols={['Finding', 'Severity']} />
          <tbody>
            {failed.map((f) => (
              <tr key={f.id}>
                <th scope="row">
                  <code>{f.id}</code>
                </th>
                <td>
                  <Badge tone={severityTone(f.severity)}>{f.severity}</Badge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function FindingsSection({ cluster, got }: { cluster: string; got: Got<CheckReport> }) {
  return (
    <ReportCard
      id="posture-check"
      title="Hardening findings"
      got={got}
      absent={
        <>
          <p>No hardening check reported for this cluster. On each control-plane node:</p>
          <Command>{`arca check control-plane --report --cluster ${cluster}`}</Command>
        </>
      }
    >
      {(check) => <Findings check={check} />}
    </ReportCard>
  );
}
