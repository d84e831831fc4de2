// Posture page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Posture() {
  return (
    <Page title="Posture">
      <p>Not built yet.</p>
    </Page>
  );
}
