/**
 * Running control-plane processes from /proc (actual state), to compare with the manifests
 * (desired state): the kubelet keeps the old pod running when a changed manifest is broken.
 */
import { type FlagSpec, parseFlags } from './flags.ts';
import type { Host } from './host.ts';

export interface RunningProcess {
  pid: number;
  argv: string[];
  uid?: number;
}

const NAMES = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler'];

export async function findProcesses(host: Host): Promise<Map<string, RunningProcess>> {
  const out = new Map<string, RunningProcess>();
  for (const n of await host.list('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const cmd = await host.read(`/proc/${n}/cmdline`);
    if (!cmd) continue;
    const argv = cmd.split('\0').filter(Boolean);
    const base = (argv[0] ?? '').split('/').pop() ?? '';
    if (!NAMES.includes(base) || out.has(base)) continue;
    const p: RunningProcess = { pid: Number(n), argv };
    const uid = /^Uid:\s+(\d+)/m.exec((await host.read(`/proc/${n}/status`)) ?? '');
    if (uid) p.uid = Number(uid[1]);
    out.set(base, p);
  }
  return out;
}

/** Flags whose effective value differs between the manifest argv and the running argv. */
export function flagDifferences(manifestArgv: string[], running: string[], spec: FlagSpec): string[] {
  const a = parseFlags(manifestArgv, spec).values;
  const b = parseFlags(running, spec).values;
  const out: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name)?.join(',');
    const y = b.get(name)?.join(',');
    if (x !== y) out.push(`--${name} (manifest ${x ?? 'absent'}, running ${y ?? 'absent'})`);
  }
  return out.sort();
}
