// Every transit mount's keys, and the KMS plugin reports resolved against them (which key version
// each reported key_id is). Reading each key costs one request per key, so only the first
// RESOLVE_MAX keys are read to resolve key_ids; the list itself is one LIST per mount.
import { Async, useAsync } from '../../components/async.tsx';
import { Link } from '../../components/ui.tsx';
import { Plugins } from './Plugins.tsx';
import { indexKeyIds, listKeys, readKey, type TransitKey } from './transit.ts';

const RESOLVE_MAX = 100;

async function load(mounts: string[], signal: AbortSignal) {
  const lists = await Promise.all(mounts.map(async (mount) => ({ mount, names: await listKeys(mount, signal) })));
  const wanted = lists.flatMap((l) => l.names.map((name) => ({ mount: l.mount, name }))).slice(0, RESOLVE_MAX);
  const keys: { mount: string; key: TransitKey }[] = [];
  // A key that cannot be read (policy) only loses its key_id resolution, not the page.
  await Promise.all(wanted.map(async (w) => readKey(w.mount, w.name, signal).then((key) => keys.push({ mount: w.mount, key }), () => undefined)));
  return { lists, ids: indexKeyIds(keys), truncated: wanted.length < lists.reduce((n, l) => n + l.names.length, 0) };
}

export function KeyIndex({ mounts }: { mounts: string[] }) {
  const data = useAsync((signal) => load(mounts, signal), [mounts.join('\0')]);
  if (mounts.length === 0) return <p>No transit mount yet: enable one with <code>POST /v1/sys/mounts/transit {'{"type":"transit"}'}</code>.</p>;
  return (
    <Async state={data} label="Loading keys…">
      {({ lists, ids, truncated }) => (
        <>
          {lists.map((l) => (
            <section key={l.mount} aria-labelledby={`m-${l.mount}`}>
              <h2 id={`m-${l.mount}`}>
                Keys in <code>{l.mount}</code>
              </h2>
              {l.names.length === 0 ? (
                <p className="muted">No keys in this mount.</p>
              ) : (
                <ul className="key-list" aria-label={`Keys in ${l.mount}`}>
                  {l.names.map((n) => (
                    <li key={n}>
                      <Link to={`keys/${l.mount}${n}`}>{n}</Link>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          ))}
          {truncated ? <p className="muted">Only the first {RESOLVE_MAX} keys are used to name the key version of each key_id below.</p> : null}
          <Plugins resolve={(id) => ids.get(id)} />
        </>
      )}
    </Async>
  );
}
