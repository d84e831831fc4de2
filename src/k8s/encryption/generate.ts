/**
 * `encryption-config generate` and `rotate`: pure functions from options (and randomness) to YAML
 * text. Rotation edits the document in place so comments and unrelated settings survive.
 */
import { randomBytes } from 'node:crypto';
import { isMap, isSeq, parseDocument, stringify } from 'yaml';
import { ArcaError } from '../../errors/index.ts';
import type { RandomFn } from './aes.ts';

export type GenerateProvider = 'aesgcm' | 'aescbc' | 'secretbox' | 'kms';

export interface GenerateOptions {
  provider: GenerateProvider;
  resources?: string[];
  keyName?: string;
  /** aes key size in bytes (16, 24, 32); secretbox is always 32 */
  keySize?: number;
  kmsName?: string;
  kmsEndpoint?: string;
  kmsTimeout?: string;
  /** keep `identity: {}` last so objects still in plaintext remain readable (default true) */
  identityFallback?: boolean;
}

export function generateConfig(o: GenerateOptions, random: RandomFn = (n) => randomBytes(n)): string {
  let first: Record<string, unknown>;
  if (o.provider === 'kms') {
    if (!o.kmsName || !o.kmsEndpoint) throw new ArcaError('ERR_INVALID_REQUEST', 'kms needs --kms-name and --kms-endpoint (unix:///path/to/socket)');
    first = { kms: { apiVersion: 'v2', name: o.kmsName, endpoint: o.kmsEndpoint, ...(o.kmsTimeout ? { timeout: o.kmsTimeout } : {}) } };
  } else {
    const size = o.provider === 'secretbox' ? 32 : (o.keySize ?? 32);
    if (![16, 24, 32].includes(size)) throw new ArcaError('ERR_INVALID_REQUEST', 'key size must be 16, 24 or 32 bytes');
    const key = random(size);
    first = { [o.provider]: { keys: [{ name: o.keyName ?? defaultKeyName(), secret: Buffer.from(key).toString('base64') }] } };
    key.fill(0);
  }
  const providers = o.identityFallback === false ? [first] : [first, { identity: {} }];
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: o.resources ?? ['secrets'], providers }],
  });
}

export function defaultKeyName(now = new Date()): string {
  return `key-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

export interface RotationStage {
  file: string;
  description: string;
  /** undefined for the rewrite step (no config change) */
  yaml?: string;
}

const KEYED = ['aescbc', 'aesgcm', 'secretbox'] as const;

/**
 * The documented four-step rotation for every rule whose first provider is key-based:
 * 1 add the new key second, 2 make it first, 3 rewrite all data, 4 drop the old first key.
 */
export function rotationStages(text: string, opts: { newKeyName?: string; random?: RandomFn } = {}): RotationStage[] {
  const random = opts.random ?? ((n: number) => randomBytes(n));
  const name = opts.newKeyName ?? defaultKeyName();
  const base = parseDocument(text);
  const rules = base.get('resources');
  if (!isSeq(rules)) throw new ArcaError('ERR_ENCCONFIG_INVALID', 'resources must be a list');
  const targets: { i: number; kind: (typeof KEYED)[number]; oldName: string; secret: string }[] = [];
  rules.items.forEach((_, i) => {
    const first = base.getIn(['resources', i, 'providers', 0]);
    if (!isMap(first)) return;
    const kind = KEYED.find((k) => first.has(k));
    if (!kind) return;
    const keys = base.getIn(['resources', i, 'providers', 0, kind, 'keys']);
    if (!isSeq(keys) || keys.items.length === 0) return;
    const size = kind === 'secretbox' ? 32 : (Buffer.from(String(base.getIn(['resources', i, 'providers', 0, kind, 'keys', 0, 'secret'])), 'base64').length || 32);
    const key = random([16, 24, 32].includes(size) ? size : 32);
    targets.push({ i, kind, oldName: String(base.getIn(['resources', i, 'providers', 0, kind, 'keys', 0, 'name'])), secret: Buffer.from(key).toString('base64') });
    key.fill(0);
  });
  if (targets.length === 0) {
    throw new ArcaError(
      'ERR_ENCCONFIG_INVALID',
      'no rule has aescbc, aesgcm or secretbox as its first provider; with kms v2, rotate the key encryption key in the KMS (the plugin reports a new key_id) and then run `arca etcd rewrite`',
    );
  }
  const stage = (edit: (doc: ReturnType<typeof parseDocument>, t: (typeof targets)[number]) => void) => {
    const doc = parseDocument(text);
    for (const t of targets) edit(doc, t);
    return doc.toString();
  };
  const keysPath = (t: (typeof targets)[number]) => ['resources', t.i, 'providers', 0, t.kind, 'keys'];
  const newKey = (doc: ReturnType<typeof parseDocument>, t: (typeof targets)[number]) => doc.createNode({ name, secret: t.secret });
  const step1 = stage((doc, t) => {
    const keys = doc.getIn(keysPath(t));
    if (isSeq(keys)) keys.items.splice(1, 0, newKey(doc, t));
  });
  const step2 = stage((doc, t) => {
    const keys = doc.getIn(keysPath(t));
    if (isSeq(keys)) keys.items.unshift(newKey(doc, t));
  });
  const step4 = stage((doc, t) => {
    const keys = doc.getIn(keysPath(t));
    if (isSeq(keys)) keys.items.splice(0, 1, newKey(doc, t));
  });
  const olds = targets.map((t) => `${t.kind} key "${t.oldName}"`).join(', ');
  return [
    { file: '1-add-new-key.yaml', description: `new key "${name}" added second: install on every apiserver and restart all (all can now read it)`, yaml: step1 },
    { file: '2-new-key-first.yaml', description: `new key "${name}" first: install on every apiserver and restart all (all now write with it)`, yaml: step2 },
    { file: '3-rewrite', description: 'rewrite every stale value: arca etcd rewrite --encryption-config 2-new-key-first.yaml ... then arca etcd scan --fail-on stale,undecryptable' },
    { file: '4-remove-old-key.yaml', description: `after an etcd backup and a clean scan, drop ${olds}; install and restart all`, yaml: step4 },
  ];
}
