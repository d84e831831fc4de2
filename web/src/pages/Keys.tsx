// Keys page: transit mounts and their keys (/ui/keys), one key's versions, rotation and minimum
// decryption version (/ui/keys/<mount>/<name>), and which KMS plugins report which key_id.
import { Async, useAsync } from '../components/async.tsx';
import { Link, Page } from '../components/ui.tsx';
import { useRoute } from '../router.ts';
import { KeyIndex } from './keys/KeyIndex.tsx';
import { KeyView } from './keys/KeyView.tsx';
import { GuessedMounts } from './secrets/GuessedMounts.tsx';
import { mountsOrDefaults } from './secrets/kv.ts';
import './keys/keys.css';

export function Keys() {
  const route = useRoute();
  const rest = route.path.replace(/^keys\/?/, '');
  const all = useAsync(async (signal) => {
    const { list, guessed } = await mountsOrDefaults(signal);
    return { transit: list.filter((m) => m.type === 'transit').map((m) => m.path), guessed };
  }, []);
  return (
    <Page title="Keys">
      <Async state={all} label="Loading mounts…">
        {({ transit, guessed }) => {
          if (!rest) {
            return (
              <>
                {guessed ? <GuessedMounts /> : null}
                <KeyIndex mounts={transit} />
              </>
            );
          }
          // Without sys/mounts, everything before the last segment of the address is taken as the mount.
          const known = guessed ? [...transit, rest.slice(0, rest.lastIndexOf('/') + 1)] : transit;
          const m = known.filter((x) => x && rest.startsWith(x)).sort((a, b) => b.length - a.length)[0];
          const name = m ? rest.slice(m.length) : '';
          if (!m || !name || name.includes('/')) {
            return (
              <div className="banner error" role="alert">
                <span>
                  No transit key at <code>{rest}</code>. <Link to="keys">See all keys</Link>.
                </span>
              </div>
            );
          }
          return <KeyView key={rest} mount={m} name={name} />;
        }}
      </Async>
    </Page>
  );
}
