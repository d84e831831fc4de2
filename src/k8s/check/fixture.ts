/**
 * Builds an in-memory host from testdata/base.yaml plus one overlay of testdata/cases.yaml, so each
 * catalogue check gets a passing and a failing host derived from the reference's examples.
 * Used by tests only (it reads files next to this module).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { LoadOptions } from './context.ts';
import { type Host, type MemoryFile, memoryHost } from './host.ts';
import { type Obj, obj } from './manifest.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const readData = (name: string) => readFileSync(join(here, name), 'utf8');

export interface Overlay {
  now?: string;
  /** per pod: flags appended (last wins) and flags removed by name */
  args?: Record<string, { add?: string[]; remove?: string[] }>;
  pods?: Record<string, Obj | null>;
  kubelet?: { args?: string[]; config?: Obj | null; configMerge?: Obj };
  files?: Record<string, Partial<FixtureFile> | null>;
  objects?: string | null;
  listeners?: string | null;
  peers?: string[];
  /** counts a live etcd scan would report: resource → state → n (CPH-ENC-07) */
  scan?: Record<string, Partial<Record<'plaintext' | 'current' | 'stale' | 'undecryptable', number>>>;
}

interface FixtureFile {
  mode: number;
  uid?: number;
  gid?: number;
  dir?: boolean;
  socket?: boolean;
  content?: string;
  cert?: string;
  kubeconfigCert?: string;
}

export const loadBase = (): Obj => parse(readData('base.yaml')) as Obj;
export const loadCases = (): Record<string, { source: string; pass: Overlay; fail: Overlay }> => parse(readData('cases.yaml'));

function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === null) delete out[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && !Array.isArray(out[k])) out[k] = deepMerge(obj(out[k]), obj(v));
    else out[k] = v;
  }
  return out;
}

function manifest(name: string, p: Obj): string {
  const mounts = Object.entries(obj(p['mounts']));
  const container: Obj = { name, image: p['image'], command: p['args'] };
  if (mounts.length) container['volumeMounts'] = mounts.map(([m], i) => ({ name: `v${i}`, mountPath: m }));
  if (p['env']) container['env'] = p['env'];
  const spec: Obj = { containers: [container] };
  if (mounts.length) spec['volumes'] = mounts.map(([, h], i) => ({ name: `v${i}`, hostPath: { path: h } }));
  if (p['runAsUser'] !== undefined) spec['securityContext'] = { runAsUser: p['runAsUser'] };
  return stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system' }, spec });
}

export function fixtureHost(overlay: Overlay = {}): { host: Host; options: LoadOptions; files: Map<string, MemoryFile> } {
  const base = loadBase();
  const pods = obj(base['pods']);
  for (const [name, p] of Object.entries(overlay.pods ?? {})) {
    if (p === null) delete pods[name];
    else pods[name] = deepMerge(obj(pods[name]), p);
  }
  for (const [name, ops] of Object.entries(overlay.args ?? {})) {
    const p = obj(pods[name]);
    const names = new Set(ops.remove ?? []);
    p['args'] = [...(p['args'] as string[]).filter((a) => !names.has(a.replace(/^--/, '').split('=')[0]!)), ...(ops.add ?? [])];
  }
  const files = new Map<string, MemoryFile>();
  const fileDefs: Record<string, Partial<FixtureFile> | null> = { ...(obj(base['files']) as Record<string, FixtureFile>) };
  for (const [path, f] of Object.entries(overlay.files ?? {})) fileDefs[path] = f === null ? null : { ...(fileDefs[path] ?? { mode: 0o600 }), ...f };
  for (const [name, p] of Object.entries(pods)) {
    const path = `/etc/kubernetes/manifests/${name}.yaml`;
    if (!(path in fileDefs)) fileDefs[path] = { mode: 0o600 };
    fileDefs[path] = { content: manifest(name, obj(p)), ...fileDefs[path] };
  }
  for (const [path, f] of Object.entries(fileDefs)) {
    if (!f) continue;
    let content = f.content;
    if (f.cert) content = readData(`pki/${f.cert}`);
    if (f.kubeconfigCert) {
      const data = Buffer.from(readData(`pki/${f.kubeconfigCert}`)).toString('base64');
      content = stringify({ apiVersion: 'v1', kind: 'Config', users: [{ name: 'admin', user: { 'client-certificate-data': data } }] });
    }
    const m: MemoryFile = { mode: f.mode ?? 0o600 };
    if (content !== undefined) m.content = content;
    if (f.uid !== undefined) m.uid = f.uid;
    if (f.gid !== undefined) m.gid = f.gid;
    if (f.dir) m.dir = true;
    if (f.socket) m.socket = true;
    files.set(path, m);
  }
  const kb = obj(base['kubelet']);
  const kubeletArgs = overlay.kubelet?.args ?? (kb['args'] as string[]);
  let kconfig: Obj | null = obj(kb['config']);
  if (overlay.kubelet?.config !== undefined) kconfig = overlay.kubelet.config;
  if (kconfig && overlay.kubelet?.configMerge) kconfig = deepMerge(kconfig, overlay.kubelet.configMerge);
  if (kconfig) files.set('/var/lib/kubelet/config.yaml', { mode: 0o600, content: stringify(kconfig), ...(files.get('/var/lib/kubelet/config.yaml') ?? {}) });
  const options: LoadOptions = {
    manifestsDir: '/etc/kubernetes/manifests',
    pkiDir: '/etc/kubernetes/pki',
    kubeletArgs,
    now: new Date(overlay.now ?? String(base['now'])),
    peerEncryptionConfigs: overlay.peers ?? (base['peers'] as string[]),
  };
  const objects = overlay.objects === undefined ? String(base['objects']) : overlay.objects;
  if (objects !== null) {
    files.set('/input/objects.yaml', { mode: 0o600, content: objects });
    options.objectsFile = '/input/objects.yaml';
  }
  const listeners = overlay.listeners === undefined ? String(base['listeners']) : overlay.listeners;
  if (listeners !== null) {
    files.set('/input/listeners.txt', { mode: 0o600, content: listeners });
    options.listenersFile = '/input/listeners.txt';
  }
  return { host: memoryHost(files), options, files };
}
