// Access page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Access() {
  return (
    <Page title="Access">
      <p>Not built yet.</p>
    </Page>
  );
}
