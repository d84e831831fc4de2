// "This needs approval": what a page shows when the server held its request for a control group.
import type { HeldRequest } from '../api/requests.ts';
import { Link } from './ui.tsx';

export function HeldNotice({ request }: { request: HeldRequest }) {
  return (
    <div className="banner warn" role="status">
      <span>
        <strong>{request.what}</strong> needs approval before it runs. Request <code>{request.accessor}</code> was sent to the approvers; run it from{' '}
        <Link to="approvals">Approvals</Link> once approved (from this browser tab).
      </span>
    </div>
  );
}
