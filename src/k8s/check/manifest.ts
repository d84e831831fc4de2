/**
 * Static-pod manifests: the command line of the first container, its env, the securityContext
 * user, the image version, and the container-path → host-path mapping through hostPath volumes.
 */
import { parse } from 'yaml';
import { type FlagSpec, Flags, parseFlags } from './flags.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strs = (v: unknown): string[] => arr(v).map((x) => String(x));

export interface StaticPod {
  /** host path of the manifest */
  file: string;
  flags: Flags;
  env: Map<string, string>;
  /** [major, minor] from the image tag, when it has one */
  version?: [number, number];
  /** effective runAsUser (0 when unset: static pods run as root unless told otherwise) */
  uid: number;
  mounts: { mountPath: string; hostPath: string }[];
  /** command + args as written in the manifest */
  argv: string[];
}

export class ManifestError extends Error {}

export function parseStaticPod(text: string, file: string, spec: FlagSpec): StaticPod {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw new ManifestError(`${file}: not valid YAML`);
  }
  const podSpec = obj(obj(doc)['spec']);
  const c = obj(arr(podSpec['containers'])[0]);
  if (!Object.keys(c).length) throw new ManifestError(`${file}: no spec.containers[0]`);
  const argv = [...strs(c['command']), ...strs(c['args'])];
  const base = file.split('/').pop() ?? file;
  const env = new Map<string, string>();
  for (const e of arr(c['env'])) {
    const eo = obj(e);
    if (typeof eo['name'] === 'string' && eo['value'] !== undefined) env.set(eo['name'], String(eo['value']));
  }
  const volumes = new Map<string, string>();
  for (const v of arr(podSpec['volumes'])) {
    const vo = obj(v);
    const hp = obj(vo['hostPath'])['path'];
    if (typeof vo['name'] === 'string' && typeof hp === 'string') volumes.set(vo['name'], hp);
  }
  const mounts: StaticPod['mounts'] = [];
  for (const m of arr(c['volumeMounts'])) {
    const mo = obj(m);
    const hp = volumes.get(String(mo['name']));
    if (hp !== undefined && typeof mo['mountPath'] === 'string') mounts.push({ mountPath: mo['mountPath'], hostPath: hp });
  }
  const runAs = obj(c['securityContext'])['runAsUser'] ?? obj(podSpec['securityContext'])['runAsUser'];
  const pod: StaticPod = { file, flags: new Flags(parseFlags(argv, spec), base), env, uid: typeof runAs === 'number' ? runAs : 0, mounts, argv };
  const m = /:v(\d+)\.(\d+)/.exec(String(c['image'] ?? ''));
  if (m) pod.version = [Number(m[1]), Number(m[2])];
  return pod;
}

/**
 * Maps a path inside the container to the host through the longest matching volume mount.
 * Unmounted paths map to themselves (what a process on the host would see), which is also
 * what kubeadm does for /etc/kubernetes/pki.
 */
export function hostPathOf(pod: StaticPod | undefined, path: string): string {
  if (!pod) return path;
  let best: StaticPod['mounts'][number] | undefined;
  for (const m of pod.mounts) {
    const mp = m.mountPath.replace(/\/$/, '');
    if ((path === mp || path.startsWith(`${mp}/`)) && (!best || mp.length > best.mountPath.replace(/\/$/, '').length)) best = m;
  }
  if (!best) return path;
  return best.hostPath.replace(/\/$/, '') + path.slice(best.mountPath.replace(/\/$/, '').length);
}

/** Parses multi-document YAML; `List` kinds are flattened. Invalid documents are skipped. */
export function parseObjects(text: string): Obj[] {
  const out: Obj[] = [];
  let docs: unknown[];
  try {
    docs = text.split(/^---\s*$/m).map((d) => parse(d) as unknown);
  } catch {
    return out;
  }
  for (const d of docs) {
    const o = obj(d);
    if (Array.isArray(o['items'])) out.push(...arr(o['items']).map(obj));
    else if (Object.keys(o).length) out.push(o);
  }
  return out;
}

export { obj, arr, strs };
export type { Obj };
