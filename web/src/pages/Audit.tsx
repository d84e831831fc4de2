// Audit page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Audit() {
  return (
    <Page title="Audit">
      <p>Not built yet.</p>
    </Page>
  );
}
