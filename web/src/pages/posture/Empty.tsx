// What to run when there is nothing to show: the mount, the reader policy this page needs, and
// the three commands that write reports (docs/operations.md §3).
import { Command } from './parts.tsx';

export function NoReports({ mount, cluster }: { mount: string; cluster?: string }) {
  const c = cluster ?? 'prod';
  return (
    <section className="card posture-empty" aria-labelledby="posture-empty">
      <h2 id="posture-empty">{cluster ? `No posture reports for ${cluster}` : 'No posture reports yet'}</h2>
      <p>
        Reports are stored in the KV v2 mount <code>{mount}/</code>, one path per cluster and source. If the mount does not exist yet, create it
        (once, as an administrator):
      </p>
      <Command>{`curl -H "X-Vault-Token: $TOKEN" -X POST $ARCA_ADDR/v1/sys/mounts/${mount} -d '{"type":"kv","options":{"version":"2"}}'`}</Command>
      <p>Then send reports from the cluster (a token with create/update on {`${mount}/data/${c}/*`}):</p>
      <Command>{`arca etcd scan --endpoints … --encryption-config … --report --cluster ${c}
arca check control-plane --report --cluster ${c}
arca kms-plugin … --report-interval 1m --cluster ${c}`}</Command>
      <p>To read them on this page a token needs (the last line for the last rotation, per KEK the plugins use):</p>
      <Command>{`path "${mount}/metadata/*" { capabilities = ["read", "list"] }
path "${mount}/data/*"     { capabilities = ["read"] }
path "transit/keys/<kek>"  { capabilities = ["read"] }`}</Command>
    </section>
  );
}
