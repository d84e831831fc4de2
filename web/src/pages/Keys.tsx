// Keys page: transit mounts and their keys (/ui/keys), one key's versions, rotation and minimum
// decryption version (/ui/keys/<mount>/<name>), and which KMS plugins report which key_id.
import { Async, useAsync } from '../components/async.tsx';
import { Link, Page } from '../components/ui.tsx';
import { useRoute } from '../router.ts';
import { KeyIndex } from './keys/KeyIndex.tsx';
import { KeyView } from './keys/KeyView.tsx';
import { mounts } from './secrets/kv.ts';
import './keys/keys.css';

export function Keys() {
  const route = useRoute();
  const rest = route.path.replace(/^keys\/?/, '');
  const all = useAsync(async (signal) => (await mounts(signal)).filter((m) => m.type === 'transit'), []);
  return (
    <Page title="Keys">
      <Async state={all} label="Loading mounts…">
        {(transit) => {
          if (!rest) return <KeyIndex mounts={transit.map((m) => m.path)} />;
          const m = transit.filter((x) => rest.startsWith(x.path)).sort((a, b) => b.path.length - a.path.length)[0];
          const name = m ? rest.slice(m.path.length) : '';
          if (!m || !name || name.includes('/')) {
            return (
              <div className="banner error" role="alert">
                <span>
                  No transit key at <code>{rest}</code>. <Link to="keys">See all keys</Link>.
                </span>
              </div>
            );
          }
          return <KeyView key={rest} mount={m.path} name={name} />;
        }}
      </Async>
    </Page>
  );
}
