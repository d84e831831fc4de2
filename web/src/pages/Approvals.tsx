// Approvals: requests held by control groups — pending ones for approvers (approve, with step-up),
// this tab's own held requests (run once approved), and where the history lives (the audit log).
import { Link, Page } from '../components/ui.tsx';
import { Mine } from './approvals/Mine.tsx';
import { Pending } from './approvals/Pending.tsx';
import './approvals/approvals.css';

export function Approvals() {
  return (
    <Page title="Approvals">
      <Pending />
      <Mine />
      <section aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        <p className="muted">
          The server keeps a request only until it is run or expires, so finished requests are not listed here. Every request, approval and run is in the audit log:{' '}
          <Link to="audit?path_prefix=sys/control-group/">approvals in the audit log</Link>.
        </p>
      </section>
    </Page>
  );
}
