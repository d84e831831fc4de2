/**
 * Turns a MountRequest's `attributes` (SecretProviderClass parameters overlaid by the pod's volume
 * context, kubernetes-integration.md §4.3) and `permission` into a frozen MountConfig, or throws a
 * coded error that names the parameter (never its value). Parsing is complete before any network
 * call, so a bad objectName is refused before a single secret is read.
 *
 * Credentials: only the pod's own token for `audience` from `csi.storage.k8s.io/serviceAccount.tokens`.
 * The provider never mints tokens and ignores the nodePublishSecretRef `secrets` for credentials.
 */
import { parse as parseYaml } from 'yaml';
import { parseSecretRef, secretDataPath } from '../../client/index.ts';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import { Secret } from '../../log/index.ts';
import { type Format, prepareRender, type Renderer, SECRET_ALIAS } from '../../render/index.ts';
import { checkNamesDisjoint, checkObjectName } from './object-name.ts';

export const ENCODINGS = ['utf-8', 'base64', 'hex'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export interface ObjectSpec {
  objectName: string;
  secretPath: string;
  secretKey?: string;
  version?: number;
  encoding: Encoding;
  filePermission?: number;
  template?: string;
  format?: Format;
  /** The KV v2 read path (relative to /v1/), from secretPath through the one secret-ref parser. */
  apiPath: string;
  /** Further secrets of a template, by alias → KV v2 read path (`{{secrets.<alias>.data.<field>}}`). */
  secretPaths?: Readonly<Record<string, string>>;
  /** The shared renderer (src/render, the agent's) for secretKey / format / template. */
  renderer: Renderer;
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount: string;
}

export interface MountConfig {
  roleName: string;
  arcaAddress: string | undefined;
  authMount: string;
  audience: string;
  caCertPath: string | undefined;
  token: Secret<string>;
  objects: readonly ObjectSpec[];
  /** Mode for objects without filePermission: the request's `permission`, else 0644. */
  defaultMode: number;
  pod: PodInfo;
}

export const TOKENS_ATTRIBUTE = 'csi.storage.k8s.io/serviceAccount.tokens';
export const MAX_OBJECTS = 256;
const OBJECT_KEYS = new Set(['objectName', 'secretPath', 'secretKey', 'version', 'encoding', 'filePermission', 'template', 'format', 'secretPaths']);
/** Further secrets one template may read. */
export const MAX_SECRET_PATHS = 16;

const invalid = (msg: string) => new ArcaError('ERR_CSI_PARAMETER_INVALID', msg);

function jsonObject(text: string, what: string): Record<string, unknown> {
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw invalid(`${what} is not valid JSON`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function stringAttr(a: Record<string, unknown>, name: string, required: true): string;
function stringAttr(a: Record<string, unknown>, name: string, required: false): string | undefined;
function stringAttr(a: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = a[name];
  if (v === undefined || v === '') {
    if (required) throw invalid(`parameter ${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`parameter ${name} must be a string`);
  return v;
}

/** `permission` arrives as JSON of a decimal number: "420" is 0644. */
export function parsePermission(p: string): number {
  if (p === '') return 0o644;
  const n = Number(p);
  if (!/^\d{1,3}$/.test(p) || n > 0o777) throw invalid('permission must be a decimal file mode between 0 and 511 (e.g. "420" for 0644)');
  return n;
}

/**
 * filePermission: a quoted octal string ("0440", "0o440") or a number. The objects list is read as
 * YAML 1.1 (as Go's YAML readers in vault-csi-provider do), so a bare 0440 is octal 288, and a
 * plain number is the mode itself like the request's decimal `permission`.
 */
function parseMode(v: unknown, where: string): number {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^0o?([0-7]{1,3})$/.exec(v);
    if (m) n = Number.parseInt(m[1]!, 8);
  }
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0o777) throw invalid(`${where}.filePermission must be an octal mode from "0000" to "0777" (quote it, e.g. "0440")`);
  return n;
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`${where}.${key} must be a non-empty string`);
  return v;
}

/** A secretPath (vault-csi-provider's API form) → the KV v2 read path, checked before any read. */
function kvPath(secretPath: string, where: string): string {
  if (secretPath.split('/').some((s) => s === '..' || s === '.')) throw invalid(`${where} must not contain "." or ".." elements`);
  if (/[?#\0]/.test(secretPath)) throw invalid(`${where} must be a plain API path (no ?, # or NUL)`);
  try {
    return secretDataPath(parseSecretRef(secretPath));
  } catch (err) {
    if (isArcaError(err)) throw invalid(`${where} must start with its KV v2 mount, e.g. secret/data/app/db`);
    throw err;
  }
}

/** `secretPaths: {alias: path}`: the other secrets a template reads (their current versions). */
function parseSecretPaths(v: unknown, where: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${where}.secretPaths must be a mapping of alias to secretPath, e.g. {cache: secret/data/app/redis}`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_SECRET_PATHS) throw invalid(`${where}.secretPaths must list 1 to ${MAX_SECRET_PATHS} secrets`);
  const out: Record<string, string> = {};
  for (const [alias, p] of entries) {
    if (!SECRET_ALIAS.test(alias)) throw invalid(`${where}.secretPaths has an alias that is not a plain name (letters, digits, _ and -, starting with a letter or _)`);
    if (typeof p !== 'string' || p === '') throw invalid(`${where}.secretPaths.${alias} must be a non-empty string`);
    out[alias] = kvPath(p, `${where}.secretPaths.${alias}`);
  }
  return Object.freeze(out);
}

function parseObject(raw: unknown, i: number): ObjectSpec {
  const where = `objects[${i}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${where} must be a mapping with objectName and secretPath`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!OBJECT_KEYS.has(k)) throw invalid(`${where} has unknown field "${k.slice(0, 40)}"; allowed: ${[...OBJECT_KEYS].join(', ')}`);
  if (typeof o['objectName'] !== 'string') throw invalid(`${where}.objectName is required (a string)`);
  checkObjectName(o['objectName'], where);
  const secretPath = optionalString(o, 'secretPath', where);
  if (!secretPath) throw invalid(`${where}.secretPath is required, e.g. secret/data/app/db`);
  const apiPath = kvPath(secretPath, `${where}.secretPath`);
  const spec: Omit<ObjectSpec, 'renderer'> & { renderer?: Renderer } = { objectName: o['objectName'], secretPath, encoding: 'utf-8', apiPath };
  const key = optionalString(o, 'secretKey', where);
  if (key !== undefined) spec.secretKey = key;
  if (o['version'] !== undefined && o['version'] !== null) {
    const v = typeof o['version'] === 'string' && /^\d+$/.test(o['version']) ? Number(o['version']) : o['version'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalid(`${where}.version must be a positive integer (a KV v2 version)`);
    spec.version = v;
  }
  const enc = optionalString(o, 'encoding', where);
  if (enc !== undefined) {
    if (!(ENCODINGS as readonly string[]).includes(enc)) throw invalid(`${where}.encoding must be one of ${ENCODINGS.join(', ')}`);
    spec.encoding = enc as Encoding;
  }
  if (o['filePermission'] !== undefined && o['filePermission'] !== null) spec.filePermission = parseMode(o['filePermission'], where);
  const template = optionalString(o, 'template', where);
  if (template !== undefined) spec.template = template;
  const format = optionalString(o, 'format', where);
  if (format !== undefined) spec.format = format as Format;
  if (spec.encoding !== 'utf-8' && spec.secretKey === undefined) throw invalid(`${where}.encoding ${spec.encoding} decodes one value: it needs secretKey`);
  if (spec.encoding !== 'utf-8' && (spec.template !== undefined || spec.format !== undefined)) throw invalid(`${where}.encoding applies to a single secretKey value, not to a template or format`);
  if (spec.template !== undefined && spec.format !== undefined) throw invalid(`${where} sets both template and format; choose one`);
  if (spec.template !== undefined && spec.secretKey !== undefined) throw invalid(`${where} sets both template and secretKey; a template names its fields itself`);
  if (o['secretPaths'] !== undefined && o['secretPaths'] !== null) {
    if (spec.template === undefined) throw invalid(`${where}.secretPaths is read by a template only; add a template that names {{secrets.<alias>.data.<field>}}`);
    spec.secretPaths = parseSecretPaths(o['secretPaths'], where);
  }
  // Validated (and the template parsed) now, so a bad template fails before any secret is read.
  try {
    spec.renderer = prepareRender({ format: spec.format, field: spec.secretKey, template: spec.template });
  } catch (err) {
    if (isArcaError(err)) throw new ArcaError(err.code, `${where}: ${err.message}`);
    throw err;
  }
  return spec as ObjectSpec;
}

/**
 * Parsed `objects` by their exact text: every Mount of a SecretProviderClass (each pod, each
 * rotation) sends the same text, and parsing YAML and preparing renderers is most of a Mount's
 * own CPU. Entries are frozen specs (no secrets, no tokens); bounded, oldest dropped first.
 */
const parsed = new Map<string, readonly ObjectSpec[]>();
const MAX_PARSED = 256;

export function parseObjects(text: string | undefined): readonly ObjectSpec[] {
  const hit = text ? parsed.get(text) : undefined;
  if (hit) return hit;
  const objects = Object.freeze(parseObjectsUncached(text).map((o) => Object.freeze(o)));
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
  parsed.set(text!, objects);
  return objects;
}

function parseObjectsUncached(text: string | undefined): ObjectSpec[] {
  if (!text) throw invalid('parameter objects is required: a YAML list of {objectName, secretPath, ...}');
  let list: unknown;
  try {
    list = parseYaml(text, { version: '1.1', uniqueKeys: true, maxAliasCount: 0, prettyErrors: false });
  } catch (err) {
    const pos = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw invalid(`parameter objects is not valid YAML${pos ? ` (line ${pos})` : ''}`);
  }
  if (!Array.isArray(list) || list.length === 0) throw invalid('parameter objects must be a non-empty YAML list');
  if (list.length > MAX_OBJECTS) throw invalid(`parameter objects lists more than ${MAX_OBJECTS} objects`);
  const objects = list.map(parseObject);
  checkNamesDisjoint(objects.map((o) => o.objectName));
  return objects;
}

/** The pod's token for `audience`, from the attributes or (serviceAccountTokenInSecrets mode) the secrets. */
function podToken(a: Record<string, unknown>, secrets: Record<string, unknown>, audience: string): Secret<string> {
  const raw = a[TOKENS_ATTRIBUTE] ?? secrets[TOKENS_ATTRIBUTE];
  if (raw === undefined || raw === '') throw new ArcaError('ERR_CSI_TOKEN_MISSING', `no ${TOKENS_ATTRIBUTE} in the mount request; list the audience in the CSIDriver's spec.tokenRequests`);
  if (typeof raw !== 'string') throw invalid(`${TOKENS_ATTRIBUTE} must be a JSON string`);
  const tokens = jsonObject(raw, TOKENS_ATTRIBUTE);
  const entry = Object.hasOwn(tokens, audience) ? tokens[audience] : undefined;
  const token = entry && typeof entry === 'object' ? (entry as Record<string, unknown>)['token'] : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new ArcaError('ERR_CSI_TOKEN_MISSING', `${TOKENS_ATTRIBUTE} has no token for the audience set in the audience parameter; add it to the CSIDriver's spec.tokenRequests`);
  }
  return new Secret(token);
}

export interface ParseInput {
  attributes: string;
  secrets: string;
  permission: string;
}

export function parseMountConfig(req: ParseInput): MountConfig {
  const a = jsonObject(req.attributes, 'attributes');
  const roleName = stringAttr(a, 'roleName', true);
  const audience = stringAttr(a, 'audience', true);
  const authMount = (stringAttr(a, 'authMount', false) ?? 'kubernetes').replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(authMount) || authMount.split('/').includes('..')) throw invalid('parameter authMount must be an auth mount path such as kubernetes');
  const arcaAddress = stringAttr(a, 'arcaAddress', false);
  if (arcaAddress !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(arcaAddress)) throw invalid('parameter arcaAddress must be an http(s) origin such as https://arca.arca.svc:8200');
  const objects = parseObjects(stringAttr(a, 'objects', false));
  const defaultMode = parsePermission(req.permission);
  const secrets = req.secrets ? jsonObject(req.secrets, 'secrets') : {};
  const token = podToken(a, secrets, audience);
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : '');
  return Object.freeze({
    roleName,
    arcaAddress,
    authMount,
    audience,
    caCertPath: stringAttr(a, 'arcaCACertPath', false),
    token,
    objects,
    defaultMode,
    pod: {
      name: str('csi.storage.k8s.io/pod.name'),
      namespace: str('csi.storage.k8s.io/pod.namespace'),
      uid: str('csi.storage.k8s.io/pod.uid'),
      serviceAccount: str('csi.storage.k8s.io/serviceAccount.name'),
    },
  });
}
