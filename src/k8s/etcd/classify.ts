/** Classifies one etcd value against the provider chain of its resource. */
import type { ValueState } from '../report/shapes.ts';
import { type EncryptionTransformers, type FromStorageResult, isArcaError, isEncrypted } from './deps.ts';
import { resourceLabel, resourceOfKey } from './resource.ts';

export type { ValueState };

export interface Classified {
  key: string;
  state: ValueState;
  resource: string;
  provider?: string;
  keyName?: string;
  keyId?: string;
  /** error code when undecryptable */
  error?: string;
  /** whether `rewrite` would write this value again with the first provider */
  needsRewrite: boolean;
  /** the decrypted result (kept only when asked for) */
  result?: FromStorageResult;
}

export async function classify(
  key: string,
  value: Uint8Array,
  prefix: string,
  t: EncryptionTransformers,
  keep = false,
): Promise<Classified> {
  const gr = resourceOfKey(key, prefix);
  const chain = t.forResource(gr);
  const resource = resourceLabel(gr);
  const aad = Buffer.from(key);
  if (!isEncrypted(value)) {
    const needsRewrite = chain.writer.kind !== 'identity';
    const c: Classified = { key, state: 'plaintext', resource, provider: 'identity', needsRewrite };
    if (keep) c.result = { plaintext: value, stale: needsRewrite, info: { kind: 'identity' } };
    return c;
  }
  try {
    const tr = chain.transformer;
    const r = tr.fromStorageSync ? tr.fromStorageSync(value, aad) : await tr.fromStorage(value, aad);
    const c: Classified = { key, state: r.stale ? 'stale' : 'current', resource, provider: r.info?.kind ?? 'unknown', needsRewrite: r.stale };
    if (r.info?.name !== undefined) c.keyName = r.info.name;
    if (r.info?.keyId !== undefined) c.keyId = r.info.keyId;
    if (keep) c.result = r;
    return c;
  } catch (err) {
    const c: Classified = { key, state: 'undecryptable', resource, needsRewrite: false, error: isArcaError(err) ? err.code : 'ERR_INTERNAL' };
    // k8s:enc:<provider>:v1:<key>:…  or  k8s:enc:kms:v{1,2}:<name>:… (key names may contain ':'; display only)
    const p = Buffer.from(value.subarray(0, 300)).toString('latin1').split(':');
    c.provider = p[2] === 'kms' ? `kms-${p[3] ?? ''}` : (p[2] ?? 'unknown');
    if (p[4] !== undefined) c.keyName = p[4];
    return c;
  }
}
