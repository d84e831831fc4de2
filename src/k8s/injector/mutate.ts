/**
 * Pure: a Pod (as received) + the injector's options → the JSON Patch that injects the agent, or an
 * ArcaError saying why the pod cannot be injected as asked. No I/O, no clock, no randomness, so the
 * same pod always gets the same patch (reinvocation, retries, dry runs).
 */
import { stringify } from 'yaml';
import { ArcaError } from '../../errors/index.ts';
import { A, alreadyInjected, INJECTED, type InjectRequest, optedIn, parseEnvRef, parseInjectRequest } from './annotations.ts';
import { agentContainer, authFlags, BUNDLE, type InjectorOptions, NAMES, PATHS, securityContext, resources, volumes } from './agent-container.ts';
import { PatchBuilder, type PatchOp, pointer } from './patch.ts';
import type { Container, Pod } from './pod.ts';

export type Decision = { kind: 'skip'; reason: 'not-opted-in' | 'already-injected' | 'not-pending' } | { kind: 'patch'; ops: PatchOp[] };

const unsupported = (msg: string) => new ArcaError('ERR_INJECTOR_POD_UNSUPPORTED', msg);

interface Target {
  c: Container;
  /** JSON Pointer of the container in the incoming pod. */
  at: string;
}

export function mutatePod(pod: Pod, o: InjectorOptions): Decision {
  const ann = pod.metadata?.annotations;
  if (!optedIn(ann)) return { kind: 'skip', reason: 'not-opted-in' };
  // Idempotent: our own marker, or our init container, means this pod was injected already.
  const init = pod.spec.initContainers ?? [];
  if (alreadyInjected(ann) || init.some((c) => c.name === NAMES.init || c.name === NAMES.copy)) return { kind: 'skip', reason: 'already-injected' };
  if (pod.status?.phase && pod.status.phase !== 'Pending') return { kind: 'skip', reason: 'not-pending' };
  const req = parseInjectRequest(ann!);
  checkNames(pod);
  const targets = selectTargets(pod, req);
  const p = new PatchBuilder();
  if (req.mode === 'env') envMode(pod, req, o, targets, p);
  else fileMode(pod, req, o, targets, p);
  p.setKeys('/metadata/annotations', ann, { [A.status]: INJECTED, ...(hasTemplates(req) ? { [A.agentConfig]: agentConfigYaml(req) } : {}) });
  return { kind: 'patch', ops: p.ops };
}

/** Names the injector adds must not already be taken, or the API server would refuse the patched pod. */
function checkNames(pod: Pod): void {
  const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  const containers = new Set([...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name));
  for (const v of [NAMES.secretsVolume, NAMES.tokenVolume, NAMES.configVolume, NAMES.caVolume, NAMES.binVolume]) {
    if (volumes.has(v)) throw unsupported(`the pod already has a volume named ${v}; rename it (the injector adds it)`);
  }
  for (const c of [NAMES.sidecar, NAMES.copy]) {
    if (containers.has(c)) throw unsupported(`the pod already has a container named ${c}; rename it (the injector adds it)`);
  }
}

function selectTargets(pod: Pod, req: InjectRequest): Target[] {
  const all: Target[] = [
    ...(pod.spec.initContainers ?? []).map((c, i) => ({ c, at: pointer('spec', 'initContainers', i) })),
    ...pod.spec.containers.map((c, i) => ({ c, at: pointer('spec', 'containers', i) })),
  ];
  if (!req.containers) return all;
  for (const n of req.containers) {
    if (!all.some((t) => t.c.name === n)) throw new ArcaError('ERR_INJECTOR_ANNOTATION_INVALID', `annotation ${A.containers}: names a container the pod does not have`);
  }
  return all.filter((t) => req.containers!.includes(t.c.name));
}

/** The agent runs as the app's user when the pod says which (so the app can read 0600 files), else non-root. */
function agentIds(pod: Pod, req: InjectRequest, targets: Target[], o: InjectorOptions): { uid: number; gid: number | undefined } {
  const first = targets.find((t) => t.c.securityContext?.runAsUser !== undefined)?.c.securityContext;
  const uid = req.runAsUser ?? first?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const gid = req.runAsGroup ?? first?.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  // A root app reads any file; the agent itself never needs root.
  return { uid: uid === undefined || uid === 0 ? o.defaultRunAsUser : uid, gid };
}

function hasTemplates(req: InjectRequest): boolean {
  return req.secrets.some((s) => s.template !== undefined);
}

/** The agent config for templated files (flags cannot carry a template); other files stay flags. */
function agentConfigYaml(req: InjectRequest): string {
  const secrets = req.secrets.filter((s) => s.template !== undefined).map((s) => ({ name: s.name, path: s.path, template: s.template }));
  return stringify({ secrets });
}

function fileMode(pod: Pod, req: InjectRequest, o: InjectorOptions, targets: Target[], p: PatchBuilder): void {
  const withConfig = hasTemplates(req);
  const { uid, gid } = agentIds(pod, req, targets, o);
  const wantInit = req.mode === 'init' || req.mode === 'init+sidecar';
  const wantSidecar = req.mode === 'sidecar' || req.mode === 'init+sidecar';
  if (req.onChange && !wantSidecar) throw new ArcaError('ERR_INJECTOR_ANNOTATION_INVALID', `annotation ${A.onChangeProcess}: needs a sidecar (mode sidecar or init+sidecar)`);
  if (req.onChange && pod.spec.shareProcessNamespace === false) throw unsupported(`${A.onChangeProcess} needs spec.shareProcessNamespace; the pod sets it to false`);
  for (const t of targets) {
    if ((t.c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, '') === req.secretsPath)) {
      throw unsupported(`container ${t.c.name} already mounts something at the secrets path; set ${A.secretsPath} to another directory`);
    }
  }
  p.append('/spec/volumes', pod.spec.volumes, volumes(o, withConfig, false));
  const common = { req, o, uid, gid, withConfig };
  const sidecar = req.sidecar ?? o.defaultSidecar ?? 'native';
  const first: unknown[] = [];
  // The init container goes first so secrets exist before any other init container or app starts.
  if (wantInit) first.push(agentContainer({ ...common, name: NAMES.init, mode: 'init', native: false }));
  if (wantSidecar && sidecar === 'native') first.push(agentContainer({ ...common, name: NAMES.sidecar, mode: 'sidecar', native: true }));
  // Mounts into the user's init containers go in before the prepend shifts their indexes.
  for (const t of targets) p.append(`${t.at}/volumeMounts`, t.c.volumeMounts, [{ name: NAMES.secretsVolume, mountPath: req.secretsPath, readOnly: true }]);
  p.prepend('/spec/initContainers', pod.spec.initContainers, first);
  if (wantSidecar && sidecar === 'classic') p.append('/spec/containers', pod.spec.containers, [agentContainer({ ...common, name: NAMES.sidecar, mode: 'sidecar', native: false })]);
  if (req.onChange && pod.spec.shareProcessNamespace !== true) p.set('/spec/shareProcessNamespace', false, true);
}

/**
 * Env mode: values reach the app's environment without a Secret and without a file. An init
 * container copies the agent's self-contained runtime into an emptyDir; each container with
 * `arca:PATH#FIELD` env values gets its command wrapped in `arca agent exec --env ... -- <command>`,
 * which logs in with the pod's Arca-audience token, fetches, and runs the original command with
 * the values in its environment (signals and exit code pass through). The original command must
 * be known: the webhook cannot read image entrypoints, so a container without `command` is refused.
 */
function envMode(pod: Pod, req: InjectRequest, o: InjectorOptions, targets: Target[], p: PatchBuilder): void {
  const wrapped: Array<{ t: Target; refs: string[]; drop: number[] }> = [];
  for (const t of targets) {
    const refs: string[] = [];
    const drop: number[] = [];
    (t.c.env ?? []).forEach((e, i) => {
      if (e.value === undefined) return;
      const ref = parseEnvRef(`container ${t.c.name} env ${e.name}`, e.value);
      if (ref === undefined) return;
      refs.push(`${e.name}=${ref}`);
      drop.push(i);
    });
    if (refs.length === 0) continue;
    if (!t.c.command?.length) {
      throw unsupported(`container ${t.c.name} has arca: env values but no command; set its command to the image's entrypoint (env mode wraps it with arca agent exec, and the webhook cannot read images)`);
    }
    if (t.c.restartPolicy === 'Always') throw unsupported(`container ${t.c.name} is a native sidecar; arca: env values are supported in app and plain init containers`);
    wrapped.push({ t, refs, drop });
  }
  if (wrapped.length === 0) throw new ArcaError('ERR_INJECTOR_ANNOTATION_INVALID', `annotation ${A.mode}: env mode, but no env entry has a value arca:PATH#FIELD`);
  const { uid, gid } = agentIds(pod, req, targets, o);
  p.append('/spec/volumes', pod.spec.volumes, volumes(o, false, true));
  const mounts = [
    { name: NAMES.binVolume, mountPath: PATHS.bin, readOnly: true },
    { name: NAMES.tokenVolume, mountPath: PATHS.tokenDir, readOnly: true },
    ...(o.caConfigMap ? [{ name: NAMES.caVolume, mountPath: PATHS.caDir, readOnly: true }] : []),
  ];
  for (const { t, refs, drop } of wrapped) {
    const command = [...BUNDLE.exec, 'agent', 'exec', ...authFlags(req, o), ...refs.flatMap((r) => ['--env', r]), '--', ...t.c.command!];
    p.set(`${t.at}/command`, true, command);
    // The references themselves leave the spec: the wrapper's --env flags carry them.
    p.removeIndexes(`${t.at}/env`, drop);
    p.append(`${t.at}/volumeMounts`, t.c.volumeMounts, mounts);
  }
  const copy = {
    name: NAMES.copy,
    image: req.image ?? o.agentImage,
    imagePullPolicy: 'IfNotPresent',
    command: [...BUNDLE.copyCommand],
    volumeMounts: [{ name: NAMES.binVolume, mountPath: PATHS.bin }],
    resources: resources(req),
    securityContext: securityContext(uid, gid),
  };
  p.prepend('/spec/initContainers', pod.spec.initContainers, [copy]);
}
