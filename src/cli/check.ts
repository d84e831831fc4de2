/**
 * `arca check control-plane` (alias `arca check`): the control-plane hardening check of
 * control-plane-hardening.md — effective configuration from static-pod manifests, kubelet config
 * layers and files, every catalogue check, optional live etcd probes.
 *
 * Exit codes (worst severity among failed findings; warn/skip never count):
 *   0 nothing failed (or only info) · 3 low · 4 medium · 5 high · 6 critical
 *   1 usage error · 2 runtime error (as every arca command)
 * `--fail-on SEVERITY` raises the bar: failures below it exit 0.
 */
import type { Command } from 'commander';
import {
  argsFromEnvFile,
  type Finding,
  EXIT_BY_SEVERITY,
  type Severity,
  exitCodeFor,
  liveChecks,
  loadContext,
  parseListeners,
  type LiveOptions,
  realHost,
  runChecks,
  toJson,
  toJunit,
  toTable,
} from '../k8s/check/index.ts';
import { checkSummary } from '../k8s/report/index.ts';
import { UsageError, reportError } from './exit.ts';
import { report, reportTarget, withReportFlags } from './report-flags.ts';

type Opts = Record<string, string | boolean | string[] | undefined>;
const SEVERITIES: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
const collect = (v: string, prev: string[] = []) => [...prev, v];
const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

function addOptions(c: Command): Command {
  return c
    .option('--manifests <dir>', 'static-pod manifests of kube-apiserver, etcd, kube-controller-manager, kube-scheduler', '/etc/kubernetes/manifests')
    .option('--pki-dir <dir>', 'control-plane PKI directory', '/etc/kubernetes/pki')
    .option('--kubelet-config <file>', 'kubelet config file (default: the kubelet --config, else /var/lib/kubelet/config.yaml)')
    .option('--kubelet-config-dir <dir>', 'kubelet --config-dir drop-ins')
    .option('--kubelet-flags <args>', 'kubelet command line, e.g. "--config=/var/lib/kubelet/config.yaml --kubeconfig=..." (default: /var/lib/kubelet/kubeadm-flags.env)')
    .option('--objects <file>', 'cluster objects for RBAC and workload checks (kubectl get pods,serviceaccounts,rolebindings,clusterrolebindings -A -o yaml)')
    .option('--listeners <file>', 'listening sockets (`ss -ltn` output or /proc/net/tcp); on the host /proc/net/tcp{,6} is read by default')
    .option('--peer-encryption-config <file>', 'the encryption config of another apiserver (repeatable, CPH-ENC-06)', collect)
    .option('--root <dir>', 'read host files under this directory (a mounted node filesystem)', '/')
    .option('--live', 'also probe etcd: sampled scan of stored Secrets/ConfigMaps (counts only) and a client without a certificate')
    .option('--endpoints <urls>', 'etcd URLs for --live (default: the apiserver --etcd-servers)')
    .option('--cacert <file>', 'etcd CA for --live (default: apiserver --etcd-cafile)')
    .option('--cert <file>', 'etcd client certificate for --live (default: apiserver --etcd-certfile)')
    .option('--key <file>', 'etcd client key for --live (default: apiserver --etcd-keyfile)')
    .option('--encryption-config <file>', 'EncryptionConfiguration to classify values with (default: the apiserver one)')
    .option('--prefix <prefix>', 'etcd key prefix (kube-apiserver --etcd-prefix)', '/registry/')
    .option('--only <ids>', 'run only these check ids or id prefixes (e.g. CPH-ENC,CPH-ETCD-08)')
    .option('--fail-on <severity>', 'lowest failed severity that sets a non-zero exit code (info|low|medium|high|critical)', 'low')
    .option('-o, --output <format>', 'table | json | junit', 'table');
}

async function run(o: Opts): Promise<void> {
  const format = String(o['output']);
  if (!['table', 'json', 'junit'].includes(format)) throw new UsageError('-o must be table, json or junit');
  const failOn = String(o['failOn']) as Severity;
  if (!SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
  const target = reportTarget(o);
  const root = String(o['root']);
  const host = realHost(root);
  const load: Parameters<typeof loadContext>[1] = { manifestsDir: String(o['manifests']), pkiDir: String(o['pkiDir']) };
  if (typeof o['kubeletConfig'] === 'string') load.kubeletConfig = o['kubeletConfig'];
  if (typeof o['kubeletConfigDir'] === 'string') load.kubeletConfigDir = o['kubeletConfigDir'];
  if (typeof o['kubeletFlags'] === 'string') load.kubeletArgs = argsFromEnvFile(`X=${o['kubeletFlags']}`);
  if (typeof o['objects'] === 'string') load.objectsFile = o['objects'];
  if (typeof o['listeners'] === 'string') load.listenersFile = o['listeners'];
  else if (root === '/') load.listenersFile = '/proc/net/tcp';
  if (Array.isArray(o['peerEncryptionConfig'])) load.peerEncryptionConfigs = o['peerEncryptionConfig'];
  const ctx = await loadContext(host, load);
  if (root === '/' && typeof o['listeners'] !== 'string' && ctx.listeners) {
    const v6 = await host.read('/proc/net/tcp6');
    if (v6) ctx.listeners.push(...parseListeners(v6));
  }
  if (o['live'] === true) {
    const lo: LiveOptions = { prefix: String(o['prefix']) };
    const eps = list(o['endpoints']);
    if (eps.length) lo.endpoints = eps;
    for (const k of ['cacert', 'cert', 'key', 'encryptionConfig'] as const) if (typeof o[k] === 'string') lo[k] = o[k] as string;
    await liveChecks(ctx, lo);
  }
  const only = list(o['only']);
  const findings: Finding[] = await runChecks(ctx, only.length ? (id) => only.some((p) => id === p || id.startsWith(`${p}-`) || id.startsWith(p)) : undefined);
  process.stdout.write(format === 'json' ? toJson(findings) : format === 'junit' ? toJunit(findings) : toTable(findings));
  if (target) await report(o, target, 'check', checkSummary(findings, target.details));
  const min = SEVERITIES.indexOf(failOn);
  const counted = findings.filter((f) => SEVERITIES.indexOf(f.severity) >= min);
  const code = exitCodeFor(counted);
  if (code) process.exitCode = code;
}

export function register(cmd: Command): void {
  cmd.description(`control-plane hardening check (exit: 0 ok, ${Object.entries(EXIT_BY_SEVERITY).filter(([, c]) => c).map(([s, c]) => `${c} ${s}`).join(', ')}; 1 usage, 2 runtime)`);
  withReportFlags(addOptions(cmd.command('control-plane', { isDefault: true }).description('check kube-apiserver, etcd, kubelet and files against the CPH catalogue'))).action(async (o: Opts) => {
    try {
      await run(o);
    } catch (err) {
      reportError(err);
    }
  });
}
