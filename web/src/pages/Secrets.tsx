// Secrets page: KV v2 mounts, a folder tree per mount (/ui/secrets/<mount>/<folder>/), search, and
// one secret's metadata, versions and values (/ui/secrets/<mount>/<path>). See docs/ui.md#secrets.
import { Async, useAsync } from '../components/async.tsx';
import { Link, Page, TableHead } from '../components/ui.tsx';
import { useRoute } from '../router.ts';
import { Breadcrumbs } from './secrets/Breadcrumbs.tsx';
import { Folder } from './secrets/Folder.tsx';
import { GuessedMounts } from './secrets/GuessedMounts.tsx';
import { isKv2, type Mount, mountsOrDefaults, prefetchFolder, secretsTo, splitMount } from './secrets/kv.ts';
import { SecretView } from './secrets/SecretView.tsx';
import './secrets/secrets.css';

function MountList({ all }: { all: Mount[] }) {
  const kv = all.filter(isKv2);
  if (kv.length === 0) return <p>No KV version 2 mount yet: enable one with <code>POST /v1/sys/mounts/&lt;path&gt;</code> and the body <code>{'{"type":"kv","options":{"version":"2"}}'}</code>.</p>;
  return (
    <table aria-label="KV version 2 mounts">
      <TableHead cols={['Mount', 'Description']} />
      <tbody>
        {kv.map((m) => (
          <tr key={m.path}>
            <td>
              <Link to={secretsTo(m.path)}>{m.path}</Link>
            </td>
            <td>{m.description || <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Secrets() {
  const route = useRoute();
  const path = route.path.replace(/^secrets\/?/, '');
  const all = useAsync((signal) => {
    prefetchFolder(path);
    return mountsOrDefaults(signal);
  }, []);
  return (
    <Page title="Secrets">
      <Async state={all} label="Loading mounts…">
        {({ list, guessed }) => {
          const note = guessed ? <GuessedMounts /> : null;
          if (!path) {
            return (
              <>
                {note}
                <MountList all={list} />
              </>
            );
          }
          // Without sys/mounts, the first segment of the address is taken as the mount.
          const at = splitMount(guessed ? [...list, { path: `${path.split('/')[0]}/`, type: 'kv', description: '', options: null }] : list, path);
          if (!at) {
            return (
              <div className="banner error" role="alert">
                <span>
                  No KV version 2 mount at <code>{path}</code>. <Link to="secrets">Choose a mount</Link>.
                </span>
              </div>
            );
          }
          const isFolder = at.rest === '' || at.rest.endsWith('/');
          return (
            <>
              <Breadcrumbs mount={at.mount.path} rest={at.rest} />
              {isFolder ? (
                <Folder key={`${at.mount.path}${at.rest}`} mount={at.mount.path} folder={at.rest} query={route.query} />
              ) : (
                <SecretView key={`${at.mount.path}${at.rest}`} mount={at.mount.path} path={at.rest} />
              )}
            </>
          );
        }}
      </Async>
    </Page>
  );
}
