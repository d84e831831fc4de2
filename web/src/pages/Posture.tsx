// Posture page (issue #21): per cluster, whether etcd data is encrypted with the current key, the
// KMS plugins' health and key_id, hardening findings and the last KEK rotation, from the posture
// reports in a KV v2 mount (docs/operations.md §3). Route: posture/<cluster>?mount=<mount>.
import { type FormEvent, useEffect, useState } from 'react';
import { Async, useAsync } from '../components/async.tsx';
import { Field, Page } from '../components/ui.tsx';
import { ClusterView } from './posture/ClusterView.tsx';
import { NoReports } from './posture/Empty.tsx';
import { DEFAULT_MOUNT, listClusters } from './posture/load.ts';
import { navigate, useRoute } from '../router.ts';
import './posture/posture.css';

const to = (cluster: string, mount: string) => `posture${cluster ? `/${encodeURIComponent(cluster)}` : ''}${mount === DEFAULT_MOUNT ? '' : `?mount=${encodeURIComponent(mount)}`}`;

function MountForm({ mount }: { mount: string }) {
  const [value, setValue] = useState(mount);
  useEffect(() => setValue(mount), [mount]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const m = value.trim().replace(/^\/+|\/+$/g, '') || DEFAULT_MOUNT;
    navigate(to('', m));
  };
  return (
    <form className="posture-mount" onSubmit={submit}>
      <Field label="Report mount">{(id) => <input id={id} value={value} onChange={(e) => setValue(e.target.value)} spellCheck={false} />}</Field>
      <button type="submit">Show</button>
    </form>
  );
}

export function Posture() {
  const route = useRoute();
  const cluster = route.path.split('/')[1] ?? '';
  const mount = route.query.get('mount') || DEFAULT_MOUNT;
  // Refresh re-reads everything: the cluster list, and the reports (ClusterView remounts).
  const [gen, setGen] = useState(0);
  const clusters = useAsync((signal) => listClusters(mount, signal), [mount, gen]);
  const list = clusters.status === 'ok' ? clusters.data : undefined;
  useEffect(() => {
    if (list?.length && !cluster) navigate(to(list[0]!, mount), true);
  }, [list, cluster, mount]);
  return (
    <Page
      title="Posture"
      actions={
        <button type="button" onClick={() => setGen((g) => g + 1)}>
          Refresh
        </button>
      }
    >
      <div className="posture-controls">
        <MountForm mount={mount} />
        <Async state={clusters} label="Listing clusters…">
          {(names) =>
            names.length === 0 ? null : (
              <Field label="Cluster">
                {(id) => (
                  <select id={id} value={cluster} onChange={(e) => navigate(to(e.target.value, mount))}>
                    {cluster && !names.includes(cluster) ? <option value={cluster}>{cluster}</option> : null}
                    {names.map((n) => (
                      <option key={n} value={n}>
                        {n}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            )
          }
        </Async>
      </div>
      {list && list.length === 0 && !cluster ? <NoReports mount={mount} /> : null}
      {cluster ? <ClusterView key={`${mount}/${cluster}/${gen}`} mount={mount} cluster={cluster} /> : null}
    </Page>
  );
}
