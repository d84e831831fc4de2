/**
 * The opt-in annotations of a pod (docs/injector.md has the table) turned into one validated
 * request. Every check that can fail at run time is done here, at admission, so a bad pod is
 * refused with a message naming the annotation instead of starting without its secrets.
 * Messages name annotation keys, never their values.
 */
import { parseSecretRef } from '../../client/index.ts';
import { ArcaError } from '../../errors/index.ts';
import { compileTemplate, FORMATS } from '../../render/index.ts';
import { parseDuration } from '../../units/index.ts';

export const PREFIX = 'arca.dev/';
export const A = {
  inject: `${PREFIX}inject`,
  status: `${PREFIX}status`,
  role: `${PREFIX}role`,
  mode: `${PREFIX}mode`,
  sidecar: `${PREFIX}sidecar`,
  secretsPath: `${PREFIX}secrets-path`,
  containers: `${PREFIX}containers`,
  interval: `${PREFIX}interval`,
  authMount: `${PREFIX}auth-mount`,
  image: `${PREFIX}agent-image`,
  cpuRequest: `${PREFIX}agent-cpu-request`,
  memoryRequest: `${PREFIX}agent-memory-request`,
  cpuLimit: `${PREFIX}agent-cpu-limit`,
  memoryLimit: `${PREFIX}agent-memory-limit`,
  runAsUser: `${PREFIX}agent-run-as-user`,
  runAsGroup: `${PREFIX}agent-run-as-group`,
  onChangeSignal: `${PREFIX}on-change-signal`,
  onChangeProcess: `${PREFIX}on-change-process`,
  /** Written by the injector: the agent config holding templates, read through the downward API. */
  agentConfig: `${PREFIX}agent-config`,
  agentPort: `${PREFIX}agent-port`,
} as const;
export const SECRET_PREFIX = `${PREFIX}secret-`;
export const TEMPLATE_PREFIX = `${PREFIX}template-`;
/** The marker value; a pod carrying it is returned unchanged (idempotency, reinvocation). */
export const INJECTED = 'injected';

export type Mode = 'init' | 'sidecar' | 'init+sidecar' | 'env';
const MODES: readonly Mode[] = ['init', 'sidecar', 'init+sidecar', 'env'];

export interface SecretFile {
  name: string;
  /** `PATH[#FIELD][:FORMAT]` exactly as the agent's --secret takes it after `NAME=`. */
  spec: string;
  path: string;
  template?: string;
}

export interface InjectRequest {
  role: string;
  mode: Mode;
  /** undefined: the injector's default. */
  sidecar: 'native' | 'classic' | undefined;
  secretsPath: string;
  /** Container names to inject into; undefined = every container and init container. */
  containers: string[] | undefined;
  intervalSeconds: number | undefined;
  authMount: string | undefined;
  image: string | undefined;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  runAsUser: number | undefined;
  runAsGroup: number | undefined;
  onChange: { signal: string; process: string } | undefined;
  /** Sidecar /healthz + /metrics port (startup probe of the native sidecar); 0 = none. */
  agentPort: number;
  secrets: SecretFile[];
}

const bad = (key: string, why: string) => new ArcaError('ERR_INJECTOR_ANNOTATION_INVALID', `annotation ${key}: ${why}`);

/** Whether the pod opted in; only the exact string "true" counts (as Vault and Infisical do). */
export function optedIn(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[A.inject] === 'true';
}

export function alreadyInjected(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[A.status] === INJECTED;
}

/** A file name the agent may create in its directory (a Kubernetes annotation key name segment). */
const FILE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|Ki|Mi|Gi)?$/;
const SIGNAL = /^SIG[A-Z0-9]{1,10}$/;
const PROCESS = /^[A-Za-z0-9._+-]{1,15}$/;
const MOUNT = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Splits `PATH[#FIELD][:FORMAT]` as the agent does and checks each part (the one secret-ref parser). */
export function parseSecretSpec(key: string, v: string): { path: string; field?: string; format?: string } {
  let rest = v.trim();
  let format: string | undefined;
  let field: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    format = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!(FORMATS as readonly string[]).includes(format)) throw bad(key, `the :FORMAT must be one of ${FORMATS.join(', ')}`);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    field = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    if (!field) throw bad(key, 'the #FIELD after the path is empty');
  }
  const path = rest.replace(/@\d+$/, '');
  try {
    const ref = parseSecretRef(path);
    if (!ref.path) throw new Error('no path');
  } catch {
    throw bad(key, 'must be PATH[#FIELD][:FORMAT] with PATH like secret/app/db (mount first)');
  }
  return { path: rest, ...(field !== undefined ? { field } : {}), ...(format !== undefined ? { format } : {}) };
}

/** `arca:PATH#FIELD` in an env value (env mode); undefined when the value is not a reference. */
export function parseEnvRef(where: string, value: string): string | undefined {
  if (!value.startsWith('arca:')) return undefined;
  const v = value.slice('arca:'.length);
  const s = parseSecretSpec(where, v);
  if (s.field === undefined || s.format !== undefined) throw bad(where, 'an arca: env value must be arca:PATH#FIELD, e.g. arca:secret/app/db#password');
  return `${s.path}#${s.field}`;
}

function posInt(key: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2 ** 31 - 1) throw bad(key, 'must be a non-negative integer id');
  return Number(v);
}

export function parseInjectRequest(ann: Record<string, string>): InjectRequest {
  const role = ann[A.role]?.trim();
  if (!role) throw bad(A.role, 'is required: the Arca Kubernetes-auth role the pod logs in as');
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(role)) throw bad(A.role, 'must be a role name (letters, digits, . _ -)');
  const mode = (ann[A.mode]?.trim() || 'init+sidecar') as Mode;
  if (!MODES.includes(mode)) throw bad(A.mode, `must be one of ${MODES.join(', ')}`);
  const sidecar = ann[A.sidecar]?.trim() || undefined;
  if (sidecar !== undefined && sidecar !== 'native' && sidecar !== 'classic') throw bad(A.sidecar, 'must be native (init container with restartPolicy Always, Kubernetes >= 1.29) or classic');
  const secretsPath = ann[A.secretsPath]?.trim() || '/arca/secrets';
  if (!secretsPath.startsWith('/') || secretsPath.includes('..') || secretsPath.includes(':')) throw bad(A.secretsPath, 'must be an absolute directory path');
  const containers = ann[A.containers]?.split(',').map((s) => s.trim()).filter(Boolean);
  let intervalSeconds: number | undefined;
  if (ann[A.interval] !== undefined) {
    try {
      intervalSeconds = parseDuration(ann[A.interval], { unit: 's', min: 1, field: A.interval, plainNumber: false });
    } catch {
      throw bad(A.interval, 'must be a duration of at least 1s, e.g. 30s or 5m');
    }
  }
  const authMount = ann[A.authMount]?.trim();
  if (authMount !== undefined && !MOUNT.test(authMount)) throw bad(A.authMount, 'must be a mount path under auth/, e.g. kubernetes');
  const image = ann[A.image]?.trim();
  if (image !== undefined && !/^[^\s]{1,255}$/.test(image)) throw bad(A.image, 'must be an image reference');
  const resources = { requests: {} as Record<string, string>, limits: {} as Record<string, string> };
  for (const [key, kind, res] of [
    [A.cpuRequest, 'requests', 'cpu'],
    [A.memoryRequest, 'requests', 'memory'],
    [A.cpuLimit, 'limits', 'cpu'],
    [A.memoryLimit, 'limits', 'memory'],
  ] as const) {
    const v = ann[key]?.trim();
    if (v === undefined) continue;
    if (!QUANTITY.test(v)) throw bad(key, 'must be a Kubernetes quantity, e.g. 10m or 64Mi');
    resources[kind][res] = v;
  }
  const signal = ann[A.onChangeSignal]?.trim();
  const proc = ann[A.onChangeProcess]?.trim();
  if (signal !== undefined && !SIGNAL.test(signal)) throw bad(A.onChangeSignal, 'must be a signal name like SIGHUP');
  if (proc !== undefined && !PROCESS.test(proc)) throw bad(A.onChangeProcess, 'must be a process name (at most 15 characters, as in /proc/PID/comm)');
  if (signal !== undefined && proc === undefined) throw bad(A.onChangeSignal, `needs ${A.onChangeProcess}: the name of the app process to signal`);
  const secrets: SecretFile[] = [];
  for (const [key, value] of Object.entries(ann)) {
    if (!key.startsWith(SECRET_PREFIX)) continue;
    const name = key.slice(SECRET_PREFIX.length);
    if (!FILE_NAME.test(name) || name === '.' || name === '..') throw bad(key, 'the part after secret- must be a file name (letters, digits, . _ -)');
    const s = parseSecretSpec(key, value);
    const template = ann[`${TEMPLATE_PREFIX}${name}`];
    // As the agent's renderer: a template names its own fields and is its own format.
    if (template !== undefined && (s.format !== undefined || s.field !== undefined)) throw bad(`${TEMPLATE_PREFIX}${name}`, `a template excludes #FIELD and :FORMAT on ${key}`);
    if (template !== undefined) {
      try {
        compileTemplate(template);
      } catch (err) {
        // The agent would refuse it at start; refuse the pod now, with the parser's reason (no values).
        throw bad(`${TEMPLATE_PREFIX}${name}`, (err as Error).message);
      }
    }
    secrets.push({ name, spec: value.trim(), path: s.path, ...(template !== undefined ? { template } : {}) });
  }
  for (const key of Object.keys(ann)) {
    if (key.startsWith(TEMPLATE_PREFIX) && ann[`${SECRET_PREFIX}${key.slice(TEMPLATE_PREFIX.length)}`] === undefined) {
      throw bad(key, `needs ${SECRET_PREFIX}${key.slice(TEMPLATE_PREFIX.length)} naming the secret the template reads`);
    }
  }
  secrets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (mode === 'env' && secrets.length) throw bad(`${SECRET_PREFIX}${secrets[0]!.name}`, 'env mode takes its values from arca:PATH#FIELD env entries; files need mode init, sidecar or init+sidecar');
  if (mode !== 'env' && secrets.length === 0) throw bad(`${SECRET_PREFIX}<name>`, 'at least one is required (or use arca.dev/mode: env)');
  const portText = ann[A.agentPort]?.trim() ?? '8299';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(A.agentPort, 'must be a port number (0 turns the health endpoint and startup probe off)');
  return {
    role,
    mode,
    sidecar,
    secretsPath: secretsPath.replace(/\/+$/, ''),
    containers: containers?.length ? containers : undefined,
    intervalSeconds,
    authMount,
    image,
    resources,
    runAsUser: posInt(A.runAsUser, ann[A.runAsUser]?.trim()),
    runAsGroup: posInt(A.runAsGroup, ann[A.runAsGroup]?.trim()),
    onChange: signal !== undefined && proc !== undefined ? { signal, process: proc } : proc !== undefined ? { signal: 'SIGHUP', process: proc } : undefined,
    agentPort: Number(portText),
    secrets,
  };
}
