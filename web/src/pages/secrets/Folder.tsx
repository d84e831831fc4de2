// One folder of a KV v2 mount: its children from a single LIST (no request per row, so a folder of
// thousands renders at once), the search form (KV search API) and "New secret".
import { type FormEvent, useEffect, useState } from 'react';
import { Async, useAsync } from '../../components/async.tsx';
import { Field, Link } from '../../components/ui.tsx';
import { navigate } from '../../router.ts';
import { NewSecret } from './NewSecret.tsx';
import { listFolder, search, secretsTo } from './kv.ts';

function Children({ mount, folder, keys }: { mount: string; folder: string; keys: string[] }) {
  // The benchmark (bench/ui.bench.ts) reads this mark: the list is committed and the next frame painted.
  useEffect(() => {
    const raf = requestAnimationFrame(() => performance.mark('arca:secrets-list'));
    return () => cancelAnimationFrame(raf);
  }, []);
  if (keys.length === 0) return <p className="muted">This folder is empty.</p>;
  return (
    <>
      <p className="muted">
        {keys.length} {keys.length === 1 ? 'entry' : 'entries'}
      </p>
      <ul className="tree" aria-label={`Contents of ${mount}${folder}`}>
        {keys.map((k) => (
          <li key={k} className={k.endsWith('/') ? 'folder' : 'secret'}>
            <Link to={secretsTo(mount + folder + k)}>{k}</Link>
          </li>
        ))}
      </ul>
    </>
  );
}

interface Query {
  q: string;
  mk: string;
  mv: string;
}

function SearchForm({ folder, initial, onSearch }: { folder: string; initial: Query; onSearch: (q: Query) => void }) {
  const [q, setQ] = useState(initial);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(q);
  };
  return (
    <search aria-label="Search secrets">
      <form className="search" onSubmit={submit}>
      <Field label="Path contains">
        {(id) => <input id={id} type="search" value={q.q} onChange={(e) => setQ({ ...q, q: e.target.value })} />}
      </Field>
      <Field label="Metadata key">{(id) => <input id={id} value={q.mk} onChange={(e) => setQ({ ...q, mk: e.target.value })} />}</Field>
      <Field label="Metadata value">{(id) => <input id={id} value={q.mv} onChange={(e) => setQ({ ...q, mv: e.target.value })} />}</Field>
      <div className="actions">
        <button type="submit" className="primary">
          Search
        </button>
        {initial.q || initial.mk ? (
          <button type="button" onClick={() => onSearch({ q: '', mk: '', mv: '' })}>
            Clear search
          </button>
        ) : null}
      </div>
      </form>
      <p className="muted scope">{folder ? `Searches below ${folder} (by path, or by a custom metadata key and value).` : 'Searches the whole mount (by path, or by a custom metadata key and value).'}</p>
    </search>
  );
}

function Results({ mount, folder, query }: { mount: string; folder: string; query: Query }) {
  const found = useAsync((signal) => search(mount, { prefix: folder, q: query.q, metaKey: query.mk, metaValue: query.mv }, signal), [mount, folder, query.q, query.mk, query.mv]);
  return (
    <section aria-labelledby="results-h">
      <h2 id="results-h">Search results</h2>
      <Async state={found} label="Searching…">
        {(keys) =>
          keys.length === 0 ? (
            <p>No secret matches.</p>
          ) : (
            <ul className="tree" aria-label="Search results">
              {keys.map((k) => (
                <li key={k} className="secret">
                  <Link to={secretsTo(mount + k)}>{`${mount}${k}`}</Link>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}

export function Folder({ mount, folder, query }: { mount: string; folder: string; query: URLSearchParams }) {
  const q: Query = { q: query.get('q') ?? '', mk: query.get('mk') ?? '', mv: query.get('mv') ?? '' };
  const searching = q.q !== '' || q.mk !== '';
  const list = useAsync((signal) => listFolder(mount, folder, signal), [mount, folder]);
  const [creating, setCreating] = useState(false);
  const onSearch = (n: Query) => {
    const p = new URLSearchParams();
    if (n.q) p.set('q', n.q);
    if (n.mk) p.set('mk', n.mk);
    if (n.mk && n.mv) p.set('mv', n.mv);
    const qs = p.toString();
    navigate(secretsTo(mount + folder, qs ? `?${qs}` : ''));
  };
  return (
    <>
      <div className="folder-head">
        <SearchForm key={`${q.q}\0${q.mk}\0${q.mv}`} folder={folder} initial={q} onSearch={onSearch} />
        <div>
          <button type="button" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            New secret
          </button>
        </div>
      </div>
      {creating ? <NewSecret mount={mount} folder={folder} onCancel={() => setCreating(false)} /> : null}
      {searching ? (
        <Results mount={mount} folder={folder} query={q} />
      ) : (
        <Async state={list} label="Loading folder…">
          {(keys) => <Children mount={mount} folder={folder} keys={keys} />}
        </Async>
      )}
    </>
  );
}
