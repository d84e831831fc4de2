// Keys page: built in its own change (see docs/ui.md).
import { Page } from '../components/ui.tsx';

export function Keys() {
  return (
    <Page title="Keys">
      <p>Not built yet.</p>
    </Page>
  );
}
