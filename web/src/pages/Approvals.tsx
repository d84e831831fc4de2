// Approvals page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Approvals() {
  return (
    <Page title="Approvals">
      <p>Not built yet.</p>
    </Page>
  );
}
