/**
 * Effective kubelet configuration (control-plane-hardening.md §1.4): defaults ← --config file ←
 * --config-dir drop-ins (*.conf, name order, later wins, lists replace) ← command-line flags. The
 * default set depends on whether a config file is used: omitted keys in a file are secure, the
 * same omissions on the command line are wide open.
 */
import { parse } from 'yaml';
import { Flags, KUBELET_FLAGS, parseFlags } from './flags.ts';
import type { Host } from './host.ts';
import { type Obj, obj } from './manifest.ts';

const CONFIG_DEFAULTS: Obj = {
  authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
  authorization: { mode: 'Webhook' },
  readOnlyPort: 0,
  rotateCertificates: false,
  serverTLSBootstrap: false,
  protectKernelDefaults: false,
  seccompDefault: false,
};

const LEGACY_DEFAULTS: Obj = {
  authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
  authorization: { mode: 'AlwaysAllow' },
  readOnlyPort: 10255,
  rotateCertificates: false,
  serverTLSBootstrap: false,
  protectKernelDefaults: false,
  seccompDefault: false,
};

/** flag → config path and value type */
const FLAG_KEYS: Record<string, [string, 'bool' | 'int' | 'str' | 'list' | 'gates']> = {
  'anonymous-auth': ['authentication.anonymous.enabled', 'bool'],
  'authentication-token-webhook': ['authentication.webhook.enabled', 'bool'],
  'client-ca-file': ['authentication.x509.clientCAFile', 'str'],
  'authorization-mode': ['authorization.mode', 'str'],
  'read-only-port': ['readOnlyPort', 'int'],
  'rotate-certificates': ['rotateCertificates', 'bool'],
  'rotate-server-certificates': ['serverTLSBootstrap', 'bool'],
  'tls-cert-file': ['tlsCertFile', 'str'],
  'tls-private-key-file': ['tlsPrivateKeyFile', 'str'],
  'tls-cipher-suites': ['tlsCipherSuites', 'list'],
  'tls-min-version': ['tlsMinVersion', 'str'],
  'protect-kernel-defaults': ['protectKernelDefaults', 'bool'],
  'seccomp-default': ['seccompDefault', 'bool'],
  'feature-gates': ['featureGates', 'gates'],
};

function setPath(o: Obj, path: string, v: unknown): void {
  const parts = path.split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) {
    cur[p] = obj(cur[p]);
    cur = cur[p] as Obj;
  }
  cur[parts[parts.length - 1]!] = v;
}

function getPath(o: Obj, path: string): unknown {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Obj)[p];
  }
  return cur;
}

export interface KubeletLayer {
  name: string;
  values: Obj;
}

export class KubeletConfig {
  constructor(
    /** highest precedence first */
    readonly layers: KubeletLayer[],
    readonly usesConfigFile: boolean,
    readonly flags: Flags,
    readonly configPath: string | undefined,
    readonly kubeconfig: string,
  ) {}

  value(path: string): unknown {
    for (const l of this.layers) {
      const v = getPath(l.values, path);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  ev(path: string): string {
    for (const l of this.layers) {
      const v = getPath(l.values, path);
      if (v !== undefined) return `${l.name}: ${path}=${JSON.stringify(v)}`;
    }
    return `${path} unset`;
  }
}

export interface KubeletSources {
  /** kubelet command-line arguments (systemd unit + kubeadm-flags.env) */
  args: string[];
  /** --kubelet-config given on our command line (overrides the kubelet's --config) */
  configFile?: string;
  configDir?: string;
}

/**
 * Kubelet arguments from `KUBELET_KUBEADM_ARGS="..."` env files (kubeadm-flags.env) and systemd
 * drop-ins (`Environment="KUBELET_CONFIG_ARGS=--config=..."`, `ExecStart=/usr/bin/kubelet ...`).
 */
export function argsFromEnvFile(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const env = /^\s*(?:Environment=)?"?[A-Z_][A-Z0-9_]*=(.*)$/.exec(line);
    const exec = /^\s*ExecStart=\S*kubelet\s+(.*)$/.exec(line);
    const v = exec?.[1] ?? env?.[1];
    if (v === undefined || /^\s*ExecStart=\s*$/.test(line)) continue;
    out.push(...v.trim().replace(/^"|"$/g, '').split(/\s+/).filter((a) => a && !a.startsWith('$')));
  }
  return out;
}

export async function loadKubelet(host: Host, s: KubeletSources): Promise<{ kubelet: KubeletConfig; problems: string[] }> {
  const problems: string[] = [];
  const flags = new Flags(parseFlags(s.args, KUBELET_FLAGS), 'kubelet flags');
  const configPath = s.configFile ?? flags.get('config');
  const layers: KubeletLayer[] = [];
  const flagValues: Obj = {};
  for (const [flag, [path, type]] of Object.entries(FLAG_KEYS)) {
    const v = flags.get(flag);
    if (v === undefined) continue;
    if (type === 'bool') setPath(flagValues, path, flags.bool(flag, false));
    else if (type === 'int') setPath(flagValues, path, Number(v));
    else if (type === 'list') setPath(flagValues, path, flags.list(flag));
    else if (type === 'gates') {
      const g: Obj = {};
      for (const kv of v.split(',')) {
        const [k, val] = kv.split('=');
        if (k) g[k.trim()] = String(val).trim() === 'true';
      }
      setPath(flagValues, path, g);
    } else setPath(flagValues, path, v);
  }
  layers.push({ name: 'kubelet flags', values: flagValues });
  let usesConfigFile = false;
  if (configPath) {
    const text = await host.read(configPath);
    if (text === undefined) problems.push(`kubelet config ${configPath} not readable`);
    else {
      usesConfigFile = true;
      const dropDir = s.configDir ?? flags.get('config-dir');
      if (dropDir) {
        const names = (await host.list(dropDir)).filter((n) => n.endsWith('.conf')).sort();
        for (const n of names.reverse()) {
          const t = await host.read(`${dropDir}/${n}`);
          if (t !== undefined) layers.push({ name: `${dropDir}/${n}`, values: safeYaml(t, `${dropDir}/${n}`, problems) });
        }
      }
      layers.push({ name: configPath, values: safeYaml(text, configPath, problems) });
    }
  }
  layers.push({ name: usesConfigFile ? 'default (config file in use)' : 'legacy flag default (no config file)', values: usesConfigFile ? CONFIG_DEFAULTS : LEGACY_DEFAULTS });
  const kubeconfig = flags.get('kubeconfig') ?? '/etc/kubernetes/kubelet.conf';
  return { kubelet: new KubeletConfig(layers, usesConfigFile, flags, configPath, kubeconfig), problems };
}

function safeYaml(text: string, name: string, problems: string[]): Obj {
  try {
    return obj(parse(text));
  } catch {
    problems.push(`${name}: not valid YAML`);
    return {};
  }
}
