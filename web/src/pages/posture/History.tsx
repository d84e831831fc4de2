// The scan history: one stacked bar per stored etcd-scan version (KV v2 versions are the history),
// drawn as SVG by React elements (the CSP allows no inline style elements, attributes are fine),
// with the same numbers in a table for screen readers and for copying into an audit.
import { Async, useAsync } from '../../components/async.tsx';
import { TableHead } from '../../components/ui.tsx';
import { formatTime, STATE_LABELS, STATE_TEXT, STATES, type ScanState } from './derive.ts';
import { type HistoryPoint, loadScanHistory } from './load.ts';

/** Fill per state: plaintext and undecryptable in reds (told apart by the legend and the table). */
export const STATE_FILL: Record<ScanState, string> = {
  plaintext: '#b3261e',
  undecryptable: '#6e0b12',
  stale: '#b86e00',
  current: '#146c2e',
};

const BAR = 28;
const GAP = 14;
const H = 120;
const AXIS = 18;

function Chart({ points }: { points: HistoryPoint[] }) {
  const max = Math.max(1, ...points.map((p) => p.total));
  const width = points.length * (BAR + GAP) + GAP;
  const last = points[points.length - 1];
  const summary = last
    ? `${points.length} scans from ${formatTime(points[0]!.at)} to ${formatTime(last.at)}; latest: ${STATES.map((s) => `${last.byState[s]} ${STATE_TEXT[s].label.toLowerCase()}`).join(', ')}.`
    : 'No scans.';
  return (
    <svg className="posture-history" width={width} height={H + AXIS} viewBox={`0 0 ${width} ${H + AXIS}`} role="img" aria-label={`Scan history: ${summary}`}>
      <line x1={0} x2={width} y1={H} y2={H} stroke="#6e7781" strokeWidth={1} />
      {points.map((p, i) => {
        const x = GAP + i * (BAR + GAP);
        let y = H;
        // Bottom to top: current, stale, undecryptable, plaintext (the bad states on top, in view).
        const segs = [...STATES].reverse().map((s) => {
          const h = (p.byState[s] / max) * (H - 4);
          y -= h;
          return h > 0 ? (
            <rect key={s} x={x} y={y} width={BAR} height={h} fill={STATE_FILL[s]}>
              <title>{`${p.byState[s]} ${STATE_TEXT[s].label.toLowerCase()}`}</title>
            </rect>
          ) : null;
        });
        return (
          <g key={p.version} data-version={p.version}>
            <title>{`Version ${p.version}, ${formatTime(p.at)}: ${p.total} objects`}</title>
            {segs}
            <text x={x + BAR / 2} y={H + 13} textAnchor="middle" fontSize={11} fill="#4a5360">
              v{p.version}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function ScanHistory({ mount, cluster }: { mount: string; cluster: string }) {
  const st = useAsync((signal) => loadScanHistory(mount, cluster, signal), [mount, cluster]);
  return (
    <div className="posture-history-box">
      <h4 id="scan-history">History</h4>
      <Async state={st} label="Loading the scan history…">
        {(points) =>
          points.length === 0 ? (
            <p className="muted">No earlier scans are stored.</p>
          ) : (
            <>
              <div className="posture-chart-row">
                <Chart points={points} />
                <ul className="posture-legend" aria-label="Legend">
                  {STATES.map((s) => (
                    <li key={s}>
                      <svg width={12} height={12} aria-hidden="true">
                        <rect width={12} height={12} fill={STATE_FILL[s]} />
                      </svg>{' '}
                      {STATE_TEXT[s].label}
                    </li>
                  ))}
                </ul>
              </div>
              <table aria-labelledby="scan-history" className="posture-compact">
                <TableHead cols={['Version', 'Scanned', ...STATE_LABELS, 'Total']} />
                <tbody>
                  {points.map((p) => (
                    <tr key={p.version}>
                      <th scope="row">v{p.version}</th>
                      <td>{formatTime(p.at)}</td>
                      {STATES.map((s) => (
                        <td key={s}>{p.byState[s]}</td>
                      ))}
                      <td>{p.total}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Async>
    </div>
  );
}
