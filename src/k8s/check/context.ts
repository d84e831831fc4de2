/** Everything the checks read, gathered once: effective flags, configs, files, cluster objects. */
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import { EtcdSettings } from './etcd-settings.ts';
import { APISERVER_FLAGS, CMS_FLAGS, ETCD_FLAGS, type FlagSpec, Flags, KUBELET_FLAGS, parseFlags } from './flags.ts';
import type { Host } from './host.ts';
import { argsFromEnvFile, type KubeletConfig, loadKubelet } from './kubelet.ts';
import { ManifestError, type Obj, type StaticPod, hostPathOf, parseObjects, parseStaticPod } from './manifest.ts';
import { findProcesses, flagDifferences } from './processes.ts';
import type { Finding } from './types.ts';

const KUBELET_DROPINS = ['/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf'];

export interface Listener {
  address: string;
  port: number;
}

export interface CheckContext {
  host: Host;
  manifestsDir: string;
  pkiDir: string;
  /** directory of the control-plane kubeconfigs (parent of the manifests dir) */
  kubeconfigDir: string;
  apiserver?: StaticPod;
  etcd?: StaticPod;
  etcdSettings?: EtcdSettings;
  kcm?: StaticPod;
  scheduler?: StaticPod;
  kubelet?: KubeletConfig;
  /** cluster objects (RBAC, Pods, ServiceAccounts) from --objects */
  objects?: Obj[];
  listeners?: Listener[];
  /** encryption config files of the other apiservers (CPH-ENC-06) */
  peerEncryptionConfigs: { name: string; text: string }[];
  /** [major, minor] of the control plane, from the apiserver image tag */
  version?: [number, number];
  now: Date;
  /** findings produced by live probes, keyed by id (they replace the static skip) */
  live: Finding[];
  /** inputs that could not be read, reported as their own lines */
  problems: string[];
  /** manifest vs running process differences (desired ≠ actual state) */
  drift: string[];
}

export interface LoadOptions {
  manifestsDir: string;
  pkiDir: string;
  kubeletConfig?: string;
  kubeletConfigDir?: string;
  /** kubelet argv (from --kubelet-flags); else read from kubeadm-flags.env when present */
  kubeletArgs?: string[];
  kubeletFlagsFile?: string;
  objectsFile?: string;
  listenersFile?: string;
  peerEncryptionConfigs?: string[];
  now?: Date;
  /** read /proc for the running processes (default true) */
  processes?: boolean;
}

async function loadPod(host: Host, dir: string, name: string, spec: FlagSpec, problems: string[]): Promise<StaticPod | undefined> {
  const file = `${dir.replace(/\/$/, '')}/${name}.yaml`;
  const text = await host.read(file);
  if (text === undefined) return undefined;
  try {
    return parseStaticPod(text, file, spec);
  } catch (err) {
    if (err instanceof ManifestError) {
      problems.push(err.message);
      return undefined;
    }
    throw err;
  }
}

/** `ss -ltn` output or /proc/net/tcp{,6} text → listening sockets. */
export function parseListeners(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const proc = /^\s*\d+:\s+([0-9A-F]+):([0-9A-F]{4})\s+[0-9A-F]+:[0-9A-F]{4}\s+0A\b/.exec(line);
    if (proc) {
      const hex = proc[1]!;
      const address =
        hex.length === 8
          ? [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.')
          : /^0+$/.test(hex)
            ? '::'
            : hex === '00000000000000000000000001000000'
              ? '::1'
              : hex;
      out.push({ address, port: Number.parseInt(proc[2]!, 16) });
      continue;
    }
    const ss = /^\s*(?:tcp\s+)?LISTEN\s+\d+\s+\d+\s+(\S+):(\d+)\s/.exec(line);
    if (ss) out.push({ address: ss[1]!.replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(ss[2]) });
  }
  return out;
}

export async function loadContext(host: Host, o: LoadOptions): Promise<CheckContext> {
  const problems: string[] = [];
  const dir = o.manifestsDir.replace(/\/$/, '');
  const ctx: CheckContext = {
    host,
    manifestsDir: dir,
    pkiDir: o.pkiDir.replace(/\/$/, ''),
    kubeconfigDir: dirname(dir),
    peerEncryptionConfigs: [],
    now: o.now ?? new Date(),
    live: [],
    problems,
    drift: [],
  };
  const api = await loadPod(host, dir, 'kube-apiserver', APISERVER_FLAGS, problems);
  if (api) {
    ctx.apiserver = api;
    if (api.version) ctx.version = api.version;
  }
  const etcd = await loadPod(host, dir, 'etcd', ETCD_FLAGS, problems);
  if (etcd) {
    ctx.etcd = etcd;
    const cf = etcd.flags.get('config-file') ?? etcd.env.get('ETCD_CONFIG_FILE');
    const text = cf ? await host.read(hostPathOf(etcd, cf)) : undefined;
    if (cf && text === undefined) problems.push(`etcd --config-file ${cf} not readable`);
    ctx.etcdSettings = new EtcdSettings(etcd.flags, etcd.env, text, cf);
  }
  const kcm = await loadPod(host, dir, 'kube-controller-manager', CMS_FLAGS, problems);
  if (kcm) ctx.kcm = kcm;
  const sched = await loadPod(host, dir, 'kube-scheduler', CMS_FLAGS, problems);
  if (sched) ctx.scheduler = sched;
  if (o.processes !== false) {
    const running = await findProcesses(host);
    const specs: [string, StaticPod | undefined, FlagSpec][] = [
      ['kube-apiserver', api, APISERVER_FLAGS],
      ['etcd', etcd, ETCD_FLAGS],
      ['kube-controller-manager', kcm, CMS_FLAGS],
      ['kube-scheduler', sched, CMS_FLAGS],
    ];
    for (const [name, pod, spec] of specs) {
      const p = running.get(name);
      if (!p || !pod) continue;
      // the etcd data-dir owner is compared with the UID etcd actually runs as (CPH-ETCD-10)
      if (name === 'etcd' && p.uid !== undefined) pod.uid = p.uid;
      const d = flagDifferences(pod.argv.slice(1), p.argv.slice(1), spec);
      if (d.length) ctx.drift.push(`${name}: ${pod.file} differs from running pid ${p.pid}: ${d.join('; ')}`);
    }
  }

  let args = o.kubeletArgs;
  if (!args) {
    // kubeadm splits the kubelet command line over the flags env file and the systemd drop-in
    const found: string[] = [];
    let seen = false;
    for (const f of [o.kubeletFlagsFile ?? '/var/lib/kubelet/kubeadm-flags.env', ...KUBELET_DROPINS]) {
      const t = await host.read(f);
      if (t === undefined) continue;
      seen = true;
      found.push(...argsFromEnvFile(t));
    }
    if (seen) args = found;
  }
  const flagConfig = args ? new Flags(parseFlags(args, KUBELET_FLAGS), 'kubelet flags').get('config') : undefined;
  const configFile = o.kubeletConfig ?? flagConfig ?? '/var/lib/kubelet/config.yaml';
  const explicit = o.kubeletConfig !== undefined || flagConfig !== undefined;
  const haveConfig = (await host.read(configFile)) !== undefined;
  if (args || haveConfig || explicit) {
    const src: Parameters<typeof loadKubelet>[1] = { args: args ?? [] };
    // a --config the kubelet was given but we cannot read is reported, not silently defaulted
    if (haveConfig || explicit) src.configFile = configFile;
    if (o.kubeletConfigDir !== undefined) src.configDir = o.kubeletConfigDir;
    const k = await loadKubelet(host, src);
    // unreadable config: its keys are unknown, so judging by defaults would invent findings
    if (!(src.configFile && !k.kubelet.usesConfigFile)) ctx.kubelet = k.kubelet;
    problems.push(...k.problems);
  }
  if (o.objectsFile) {
    const t = await host.read(o.objectsFile);
    if (t === undefined) problems.push(`--objects ${o.objectsFile} not readable`);
    else ctx.objects = parseObjects(t);
  }
  if (o.listenersFile) {
    const t = await host.read(o.listenersFile);
    if (t === undefined) problems.push(`--listeners ${o.listenersFile} not readable`);
    else ctx.listeners = parseListeners(t);
  }
  for (const p of o.peerEncryptionConfigs ?? []) {
    const t = await host.read(p);
    if (t === undefined) problems.push(`--peer-encryption-config ${p} not readable`);
    else ctx.peerEncryptionConfigs.push({ name: p, text: t });
  }
  return ctx;
}

/** Every certificate in a PEM bundle; unparsable blocks are skipped. */
export function parseCerts(pem: string | undefined): X509Certificate[] {
  if (!pem) return [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      // a broken block is reported by the check that needed it (no certificate found)
    }
  }
  return out;
}

export function subjectOrgs(c: X509Certificate): string[] {
  return c.subject.split('\n').filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
}
