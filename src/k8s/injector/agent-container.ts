/**
 * What the injector adds to a pod besides patches of the user's containers: the volumes and the
 * agent containers, with their names and paths in one place. The agent is `arca agent
 * init|sidecar|exec` (docs/agent.md) with flags only, so no ConfigMap or Secret is created per pod
 * (the webhook has no side effects; templates travel in a pod annotation read through the downward
 * API).
 */
import type { InjectRequest } from './annotations.ts';
import { A } from './annotations.ts';

export interface InjectorOptions {
  /** Arca server URL as seen from pods, e.g. https://arca.arca-system.svc:8200. */
  arcaAddr: string;
  agentImage: string;
  /** Audience of the projected token; the Kubernetes auth role must require the same. */
  audience: string;
  authMount: string;
  /** Lifetime kubelet requests for the projected token (Kubernetes minimum 600). */
  tokenExpirySeconds: number;
  /** ConfigMap (key ca.crt) with the CA that signed Arca's serving certificate; none = system roots. */
  caConfigMap?: string | undefined;
  /** Agent uid when neither the annotation nor the app's securityContext names a non-root one. */
  defaultRunAsUser: number;
  /** Sidecar kind when the pod does not say: classic for clusters before 1.29 (no native sidecars). */
  defaultSidecar?: 'native' | 'classic' | undefined;
}

export const NAMES = {
  init: 'arca-agent-init',
  sidecar: 'arca-agent',
  copy: 'arca-agent-copy',
  secretsVolume: 'arca-secrets',
  tokenVolume: 'arca-token',
  configVolume: 'arca-config',
  caVolume: 'arca-ca',
  binVolume: 'arca-bin',
} as const;

export const PATHS = {
  /** Where the agent writes, in its own containers (apps mount the volume at their secrets path). */
  agentSecrets: '/arca/secrets',
  tokenDir: '/var/run/secrets/arca.dev/serviceaccount',
  token: '/var/run/secrets/arca.dev/serviceaccount/token',
  configDir: '/var/run/arca.dev/config',
  config: '/var/run/arca.dev/config/agent.yaml',
  caDir: '/var/run/secrets/arca.dev/ca',
  ca: '/var/run/secrets/arca.dev/ca/ca.crt',
  bin: '/arca/bin',
} as const;

/**
 * The agent image's self-contained runtime for env mode (docs/injector.md "Agent image"): the image
 * holds at /opt/arca/bundle a directory with node, the shared libraries it links and the dynamic
 * loader (copied as ld.so), plus the agent bundle from scripts/build-agent.mjs (arca-agent.mjs and
 * its chunks). Running the loader explicitly with --library-path makes
 * the wrapper independent of the app image's libc, so it starts in distroless, scratch and Alpine
 * (musl) images alike, with no shell.
 */
export const BUNDLE = {
  source: '/opt/arca/bundle/.',
  copyCommand: ['cp', '-R', '/opt/arca/bundle/.', PATHS.bin],
  exec: [`${PATHS.bin}/ld.so`, '--library-path', `${PATHS.bin}/lib`, `${PATHS.bin}/node`, `${PATHS.bin}/arca-agent.mjs`],
} as const;

/**
 * Requests from the agent's own benchmark (docs/agent.md: 48.2 MiB RSS idle as a sidecar, 0.09
 * CPU-s per minute ≈ 1.5m), with a little headroom — not Vault's 250m/64Mi. No CPU limit: a
 * throttled init container only delays the pod.
 */
const DEFAULT_RESOURCES = { requests: { cpu: '5m', memory: '50Mi' }, limits: { memory: '128Mi' } };

export function volumes(o: InjectorOptions, withConfig: boolean, env: boolean): unknown[] {
  const v: unknown[] = [];
  if (env) v.push({ name: NAMES.binVolume, emptyDir: {} });
  else v.push({ name: NAMES.secretsVolume, emptyDir: { medium: 'Memory' } });
  v.push({
    name: NAMES.tokenVolume,
    projected: { defaultMode: 0o444, sources: [{ serviceAccountToken: { audience: o.audience, expirationSeconds: o.tokenExpirySeconds, path: 'token' } }] },
  });
  if (withConfig) {
    v.push({ name: NAMES.configVolume, downwardAPI: { defaultMode: 0o444, items: [{ path: 'agent.yaml', fieldRef: { fieldPath: `metadata.annotations['${A.agentConfig}']` } }] } });
  }
  if (o.caConfigMap) v.push({ name: NAMES.caVolume, configMap: { name: o.caConfigMap, defaultMode: 0o444, items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
  return v;
}

/** Flags every agent mode shares: where Arca is and how to log in. */
export function authFlags(req: InjectRequest, o: InjectorOptions): string[] {
  return [
    '--addr', o.arcaAddr,
    ...(o.caConfigMap ? ['--cacert', PATHS.ca] : []),
    '--k8s-role', req.role,
    '--k8s-token-file', PATHS.token,
    '--k8s-mount', req.authMount ?? o.authMount,
  ];
}

export function agentMounts(o: InjectorOptions, withConfig: boolean): unknown[] {
  return [
    { name: NAMES.secretsVolume, mountPath: PATHS.agentSecrets },
    { name: NAMES.tokenVolume, mountPath: PATHS.tokenDir, readOnly: true },
    ...(withConfig ? [{ name: NAMES.configVolume, mountPath: PATHS.configDir, readOnly: true }] : []),
    ...(o.caConfigMap ? [{ name: NAMES.caVolume, mountPath: PATHS.caDir, readOnly: true }] : []),
  ];
}

export function securityContext(uid: number, gid: number | undefined): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    ...(gid !== undefined ? { runAsGroup: gid } : {}),
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function resources(req: InjectRequest): Record<string, Record<string, string>> {
  const r = { requests: { ...DEFAULT_RESOURCES.requests, ...req.resources.requests }, limits: { ...DEFAULT_RESOURCES.limits, ...req.resources.limits } };
  return r;
}

export interface AgentContainerInput {
  name: string;
  mode: 'init' | 'sidecar';
  req: InjectRequest;
  o: InjectorOptions;
  uid: number;
  gid: number | undefined;
  withConfig: boolean;
  native: boolean;
}

export function agentContainer(i: AgentContainerInput): Record<string, unknown> {
  const files = i.req.secrets.filter((s) => s.template === undefined).flatMap((s) => ['--secret', `${s.name}=${s.spec}`]);
  // args, not command: the agent image's entrypoint is arca (docs/agent.md runs it the same way).
  const args = [
    'agent', i.mode,
    ...(i.withConfig ? ['--config', PATHS.config] : []),
    ...authFlags(i.req, i.o),
    ...files,
    '--dir', PATHS.agentSecrets,
  ];
  if (i.mode === 'sidecar') {
    if (i.req.intervalSeconds !== undefined) args.push('--interval', `${i.req.intervalSeconds}s`);
    if (i.req.onChange) args.push('--on-change-signal', i.req.onChange.signal, '--on-change-process', i.req.onChange.process);
    if (i.req.agentPort) args.push('--listen', `0.0.0.0:${i.req.agentPort}`);
  }
  // A native sidecar's startup probe holds back the next containers until the first render is done.
  const probe = i.mode === 'sidecar' && i.native && i.req.agentPort
    ? { startupProbe: { httpGet: { path: '/healthz', port: i.req.agentPort }, periodSeconds: 1, failureThreshold: 120 } }
    : {};
  return {
    name: i.name,
    image: i.req.image ?? i.o.agentImage,
    imagePullPolicy: 'IfNotPresent',
    args,
    ...(i.native ? { restartPolicy: 'Always' } : {}),
    ...probe,
    volumeMounts: agentMounts(i.o, i.withConfig),
    resources: resources(i.req),
    securityContext: securityContext(i.uid, i.gid),
  };
}
