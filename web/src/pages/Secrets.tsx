// Secrets page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Secrets() {
  return (
    <Page title="Secrets">
      <p>Not built yet.</p>
    </Page>
  );
}
