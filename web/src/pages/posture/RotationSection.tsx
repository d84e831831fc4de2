// Last rotation of the KEK the cluster's KMS plugins use. `arca kms rotate` keeps its state in a
// local file, not on the server, so the one record the server has is the transit key itself: the
// creation time of its latest version is the last rotation, and each plugin's key_id names the
// version it encrypts with. HSM-held KEKs (source pkcs11/…) have no server record: "unknown".
import { Async, describeError, useAsync } from '../../components/async.tsx';
import { formatTime, type PluginReport, transitKeyOf, versionOfKeyId } from './derive.ts';
import { type KeyRotation, loadRotation } from './load.ts';
import { Badge } from './parts.tsx';

function KeyLine({ k, plugins }: { k: KeyRotation; plugins: PluginReport[] }) {
  const name = `${k.mount}/keys/${k.key}`;
  if (k.versions.state === 'absent') {
    return (
      <li>
        <code>{name}</code>: unknown — the key does not exist on this server.
      </li>
    );
  }
  if (k.versions.state === 'error') {
    return (
      <li>
        <code>{name}</code>: unknown — {describeError(k.versions.error)}
      </li>
    );
  }
  const v = k.versions.value;
  const created = v.created[String(v.latest)];
  const users = plugins.filter((p) => {
    const t = transitKeyOf(p.source);
    return t?.mount === k.mount && t.key === k.key;
  });
  return (
    <li>
      <code>{name}</code>:{' '}
      {v.latest > 1 ? (
        <>
          last rotated <strong>{created ? formatTime(created * 1000) : 'at an unknown time'}</strong> (version {v.latest} created)
        </>
      ) : (
        <>
          <Badge tone="warn">never rotated</Badge> — version 1 created {created ? formatTime(created * 1000) : 'at an unknown time'}
        </>
      )}
      {v.minDecryption > 1 ? <span> · versions below {v.minDecryption} retired</span> : null}
      <ul>
        {users.map((p) => {
          const pv = versionOfKeyId(v, p.keyId);
          return (
            <li key={p.node}>
              {p.node}:{' '}
              {pv === undefined ? (
                <Badge tone="bad">key_id is not a version of this key</Badge>
              ) : pv === v.latest ? (
                <Badge tone="ok">on the latest version (v{pv})</Badge>
              ) : (
                <Badge tone="warn">still on v{pv} of {v.latest}</Badge>
              )}
            </li>
          );
        })}
      </ul>
    </li>
  );
}

export function RotationSection({ plugins }: { plugins: PluginReport[] }) {
  const keys = plugins.map((p) => p.source).sort().join('\n');
  const st = useAsync((signal) => loadRotation(plugins, signal), [keys]);
  return (
    <section className="card posture-card" aria-labelledby="posture-rotation">
      <h3 id="posture-rotation">Last rotation</h3>
      <Async state={st} label="Reading the KEK’s versions…">
        {(rot) =>
          rot.length === 0 ? (
            <p>
              <Badge tone="neutral">unknown</Badge> No KMS plugin report names a transit key (plugins report their KEK; an HSM-held KEK has no
              rotation record on the server).
            </p>
          ) : (
            <ul className="posture-rotation">
              {rot.map((k) => (
                <KeyLine key={`${k.mount}/${k.key}`} k={k} plugins={plugins} />
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}
