// One transit key: its versions (creation time, key_id, whether it still decrypts), rotation and the
// minimum decryption version — both confirmed, both possibly held for approval by a control group —
// and the KMS plugins whose reported key_id is one of its versions.
import { useState } from 'react';
import { type HeldRequest, rememberRequest, type WrapInfo } from '../../api/requests.ts';
import { Async, useAsync } from '../../components/async.tsx';
import { HeldNotice } from '../../components/held.tsx';
import { ConfirmButton, Field, TableHead } from '../../components/ui.tsx';
import { Plugins } from './Plugins.tsx';
import { indexKeyIds, readKey, rotateKey, setMinDecryption, type TransitKey } from './transit.ts';

const when = (unix: number | undefined): string => (unix ? new Date(unix * 1000).toLocaleString() : '—');

function versionState(k: TransitKey, v: number): { label: string; badge: string } {
  if (v < k.min_decryption_version) return { label: 'cannot decrypt', badge: 'bad' };
  if (v === k.latest_version) return { label: 'latest: encrypts', badge: 'ok' };
  if (k.min_encryption_version > 0 && v < k.min_encryption_version) return { label: 'decrypt only', badge: 'neutral' };
  return { label: 'decrypts', badge: 'neutral' };
}

function MinDecryption({ mount, k, onDone }: { mount: string; k: TransitKey; onDone: (held?: WrapInfo) => void }) {
  const [v, setV] = useState(k.min_decryption_version);
  const versions = Object.keys(k.keys)
    .map(Number)
    .sort((a, b) => a - b);
  return (
    <div className="min-dec">
      <Field label="Minimum decryption version" hint="Ciphertexts of older versions can no longer be decrypted (rewrap them first).">
        {(id) => (
          <select id={id} value={v} onChange={(e) => setV(Number(e.target.value))}>
            {versions.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ConfirmButton
        label="Set minimum decryption version"
        title={`Set the minimum decryption version of ${k.name} to ${v}?`}
        body={<p>{v > k.min_decryption_version ? `Data still encrypted under versions below ${v} becomes undecryptable.` : `Versions from ${v} decrypt again.`}</p>}
        confirmLabel="Set"
        danger={v > k.min_decryption_version}
        onConfirm={async () => onDone(await setMinDecryption(mount, k.name, v))}
      />
    </div>
  );
}

export function KeyView({ mount, name }: { mount: string; name: string }) {
  const key = useAsync((signal) => readKey(mount, name, signal), [mount, name]);
  const [held, setHeld] = useState<HeldRequest | null>(null);
  const after = (what: string) => (w?: WrapInfo) => {
    setHeld(w ? rememberRequest(w, what) : null);
    key.reload();
  };
  return (
    <>
      <h2 className="key-title">
        Key <code>{`${mount}${name}`}</code>
      </h2>
      {held ? <HeldNotice request={held} /> : null}
      <Async state={key} label="Loading key…">
        {(k) => {
          const ids = indexKeyIds([{ mount, key: k }]);
          const versions = Object.keys(k.keys)
            .map(Number)
            .sort((a, b) => b - a);
          return (
            <>
              <div className="grid">
                <section className="card" aria-labelledby="key-h">
                  <h3 id="key-h">Details</h3>
                  <dl className="meta">
                    <dt>Type</dt>
                    <dd>{k.type}</dd>
                    <dt>Latest version</dt>
                    <dd>{k.latest_version}</dd>
                    <dt>Minimum decryption version</dt>
                    <dd>{k.min_decryption_version}</dd>
                    <dt>Minimum encryption version</dt>
                    <dd>{k.min_encryption_version || 'latest'}</dd>
                    <dt>Automatic rotation</dt>
                    <dd>{k.auto_rotate_period ? `every ${Math.round(k.auto_rotate_period / 3600)} h` : 'off'}</dd>
                  </dl>
                </section>
                <section className="card" aria-labelledby="keyact-h">
                  <h3 id="keyact-h">Change</h3>
                  <ConfirmButton
                    label="Rotate key"
                    title={`Rotate ${name}?`}
                    body={<p>A new version {k.latest_version + 1} becomes the one that encrypts; older versions still decrypt.</p>}
                    confirmLabel="Rotate"
                    onConfirm={async () => after(`Rotate key ${name}`)(await rotateKey(mount, name))}
                  />
                  <MinDecryption key={k.min_decryption_version} mount={mount} k={k} onDone={after(`Set minimum decryption version of key ${name}`)} />
                </section>
              </div>
              <h3>Versions</h3>
              <table aria-label="Key versions">
                <TableHead cols={['Version', 'Created', 'State', 'key_id']} />
                <tbody>
                  {versions.map((v) => {
                    const st = versionState(k, v);
                    return (
                      <tr key={v}>
                        <td>v{v}</td>
                        <td>{when(k.keys[String(v)])}</td>
                        <td>
                          <span className={`badge ${st.badge}`}>{st.label}</span>
                        </td>
                        <td>
                          <code className="key-id">{k.version_ids?.[String(v)] ?? '—'}</code>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <Plugins resolve={(id) => ids.get(id)} only={(r) => r !== undefined} />
            </>
          );
        }}
      </Async>
    </>
  );
}
