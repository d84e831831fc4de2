/**
 * The agent's settings: one zod schema, filled from a YAML file (`--config`) and/or flags, validated
 * once and frozen. Errors are ERR_CONFIG_INVALID naming the field (`secrets.1.mode: …`).
 *
 * Flag shorthands (what the injector and CSI users pass):
 *   --secret NAME=PATH[@VERSION][#FIELD][:FORMAT]   file DIR/NAME
 *   --env VAR=PATH[@VERSION]#FIELD                  exec mode: environment variable VAR
 * PATH is the CLI form of a KV v2 reference (`secret/app/db`; `secret/data/app/db` also works).
 */
// zod/mini: the same validation as zod, tree-shakable, so the bundled agent carries a few KB of it
// instead of the whole library (the agent's memory budget is a bare node process × 1.3).
import * as z from 'zod/mini';
import { parseSecretRef, type SecretRef } from '../client/index.ts';
import { ArcaError } from '../errors/index.ts';
import { compileTemplate, FORMATS, isEnvName, prepareRender, type Renderer, SECRET_ALIAS } from '../render/index.ts';
import { parseDuration } from '../units/index.ts';

const nonEmpty = () => z.string().check(z.minLength(1));
const durationMs = (field: string, minMs: number, v: string | number): number | undefined => {
  try {
    return parseDuration(v, { unit: 'ms', min: minMs, field, plainNumber: false });
  } catch {
    return undefined;
  }
};
const duration = (field: string, minMs: number) =>
  z.pipe(
    z.union([z.string(), z.number()]).check(z.refine((v) => durationMs(field, minMs, v) !== undefined, `must be a duration like 30s or 1m, at least ${minMs / 1000}s`)),
    z.transform((v: string | number) => durationMs(field, minMs, v)!),
  );

const parseMode = (v: string | number) => (typeof v === 'string' ? Number.parseInt(v, 8) : v);
/** Octal string ("0640") or number; any bit for "other" is refused: rendered files are never world-readable. */
const fileMode = z.pipe(
  z
    .union([z.string().check(z.regex(/^0?[0-7]{3}$/, 'must be an octal mode like 0600 or 0640')), z.int()])
    .check(
      z.refine((v) => parseMode(v) >= 0 && parseMode(v) <= 0o777, 'must be a file mode between 0000 and 0777'),
      z.refine((v) => (parseMode(v) & 0o007) === 0, 'must not give "other" any access (rendered files are never world-readable); use 0600 or 0640'),
    ),
  z.transform(parseMode),
);

const fileName = z.string().check(z.minLength(1), z.maxLength(255), z.refine((s) => !s.includes('/') && s !== '.' && s !== '..' && !s.includes('\0'), 'must be a plain file name (no "/"), e.g. db.env'));
const secretPath = z.string().check(z.minLength(1), z.maxLength(1024));
const version = z.int().check(z.positive());
const id = z.int().check(z.nonnegative());
const hostPort = z.string().check(z.regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:9102'));

const SecretSpec = z.strictObject({
  name: fileName,
  path: secretPath,
  version: z.optional(version),
  field: z.optional(nonEmpty()),
  format: z.optional(z.enum(FORMATS)),
  template: z.optional(z.string()),
  templateFile: z.optional(nonEmpty()),
  /** Further secrets a template reads, alias → path: `{{secrets.<alias>.data.<field>}}`. */
  secrets: z.optional(z.record(z.string().check(z.regex(SECRET_ALIAS, 'must be a plain name (letters, digits, _ and -, starting with a letter or _)')), secretPath)),
  /** Absolute file to write; default `<dir>/<name>`. */
  destination: z.optional(nonEmpty()),
  mode: z.optional(fileMode),
  uid: z.optional(id),
  gid: z.optional(id),
});

const EnvSpec = z.strictObject({ name: z.string().check(z.refine(isEnvName, 'must be an environment variable name')), path: secretPath, version: z.optional(version), field: nonEmpty() });

const Auth = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('kubernetes'),
    role: nonEmpty(),
    tokenFile: z._default(nonEmpty(), '/var/run/secrets/kubernetes.io/serviceaccount/token'),
    mount: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'mount path under auth/, e.g. kubernetes')), 'kubernetes'),
  }),
  z.strictObject({ type: z.literal('token-file'), tokenFile: nonEmpty() }),
]);

const OnChange = z
  .strictObject({
    signal: z._default(z.string().check(z.regex(/^SIG[A-Z0-9]+$/, 'a signal name like SIGHUP')), 'SIGHUP'),
    pidFile: z.optional(nonEmpty()),
    processName: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    /** argv, run without a shell. */
    command: z.optional(z.array(z.string()).check(z.minLength(1))),
  })
  .check(z.refine((o) => [o.pidFile, o.processName, o.command].filter((x) => x !== undefined).length === 1, 'set exactly one of pidFile, processName, command'));

export const AgentConfigSchema = z.strictObject({
  addr: z.optional(z.url()),
  cacert: z.optional(nonEmpty()),
  auth: Auth,
  dir: z.optional(nonEmpty()),
  interval: z._default(duration('interval', 1000), 30_000),
  /** Consecutive failed refresh cycles before /healthz reports degraded. */
  degradedAfter: z._default(z.int().check(z.positive()), 3),
  /** HOST:PORT for /healthz and /metrics (sidecar mode); off when absent. */
  listen: z.optional(hostPort),
  /** Attempts for transient failures (unreachable, sealed, 5xx) before init gives up. */
  initAttempts: z._default(z.int().check(z.gte(1), z.lte(100)), 5),
  onChange: z.optional(OnChange),
  secrets: z._default(z.array(SecretSpec), []),
  env: z._default(z.array(EnvSpec), []),
});

export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

export interface SecretTarget {
  readonly name: string;
  readonly ref: SecretRef;
  /** The reference as written (for messages and metrics labels; never a value). */
  readonly display: string;
  readonly version: number | undefined;
  readonly file: string;
  readonly mode: number;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly renderer: Renderer;
  /** The other secrets of a template over several secrets (always at their current version). */
  readonly others: readonly OtherSecret[];
}

export interface OtherSecret {
  readonly alias: string;
  readonly ref: SecretRef;
  readonly display: string;
}

export interface EnvTarget {
  readonly name: string;
  readonly ref: SecretRef;
  readonly display: string;
  readonly version: number | undefined;
  readonly field: string;
}

export type AgentConfig = Readonly<Omit<z.output<typeof AgentConfigSchema>, 'secrets' | 'env'>> & {
  readonly secrets: readonly SecretTarget[];
  readonly env: readonly EnvTarget[];
};

export interface ConfigIO {
  readFile(path: string): string;
}

/** Validates `input` once; templates are parsed and secret references split here, so a bad config fails before any fetch. */
export function buildConfig(input: unknown, io: ConfigIO): AgentConfig {
  const r = AgentConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ArcaError('ERR_CONFIG_INVALID', `invalid agent config: ${lines.join('; ')}`);
  }
  const c = r.data;
  const secrets = c.secrets.map((s, i): SecretTarget => {
    const at = `secrets.${i}`;
    if (s.destination === undefined && c.dir === undefined) throw invalid(`${at}.destination`, 'set dir (--dir) or a destination for every secret');
    if (s.destination !== undefined && !s.destination.startsWith('/')) throw invalid(`${at}.destination`, 'must be an absolute path');
    if (s.template !== undefined && s.templateFile !== undefined) throw invalid(`${at}.template`, 'set template or templateFile, not both');
    const { ref, version } = splitRef(s.path, s.version, `${at}.path`);
    let template = s.template;
    if (s.templateFile !== undefined) {
      try {
        template = io.readFile(s.templateFile);
      } catch (err) {
        throw invalid(`${at}.templateFile`, `cannot read ${s.templateFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    const others: OtherSecret[] = [];
    if (s.secrets !== undefined) {
      if (template === undefined) throw invalid(`${at}.secrets`, 'only a template reads other secrets; add a template naming {{secrets.<alias>.data.<field>}}');
      if (version !== undefined) throw invalid(`${at}.version`, 'a template over several secrets follows their current versions; drop the version');
      const entries = Object.entries(s.secrets);
      if (entries.length === 0 || entries.length > 16) throw invalid(`${at}.secrets`, 'list 1 to 16 secrets');
      for (const [alias, p] of entries) {
        const o = splitRef(p, undefined, `${at}.secrets.${alias}`);
        if (o.version !== undefined) throw invalid(`${at}.secrets.${alias}`, 'other secrets are read at their current version; drop the @VERSION');
        others.push(Object.freeze({ alias, ref: o.ref, display: p }));
      }
    }
    let renderer: Renderer;
    try {
      if (template !== undefined) compileTemplate(template);
      renderer = prepareRender({ format: s.format, field: s.field, template });
    } catch (err) {
      throw invalid(template !== undefined ? `${at}.template` : `${at}.format`, (err as Error).message);
    }
    return Object.freeze({
      name: s.name, ref, display: s.path, version, file: s.destination ?? `${c.dir!.replace(/\/+$/, '')}/${s.name}`,
      mode: s.mode ?? 0o600, uid: s.uid, gid: s.gid, renderer, others: Object.freeze(others),
    });
  });
  const files = new Set<string>();
  secrets.forEach((s, i) => {
    if (files.has(s.file)) throw invalid(`secrets.${i}.name`, `two secrets write ${s.file}`);
    files.add(s.file);
  });
  const env = c.env.map((e, i): EnvTarget => {
    const { ref, version } = splitRef(e.path, e.version, `env.${i}.path`);
    return Object.freeze({ name: e.name, ref, display: e.path, version, field: e.field });
  });
  return Object.freeze({ ...c, secrets: Object.freeze(secrets), env: Object.freeze(env) });
}

function invalid(field: string, msg: string): ArcaError {
  return new ArcaError('ERR_CONFIG_INVALID', `invalid agent config: ${field}: ${msg}`);
}

/** `secret/app/db@3` → ref + version 3; a version both in the path and the field must agree. */
function splitRef(path: string, version: number | undefined, field: string): { ref: SecretRef; version: number | undefined } {
  let p = path;
  let v = version;
  const m = /@(\d+)$/.exec(p);
  if (m) {
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n < 1) throw invalid(field, 'the @VERSION must be a positive integer');
    if (v !== undefined && v !== n) throw invalid(field, 'the @VERSION in the path differs from version');
    v = n;
    p = p.slice(0, m.index);
  }
  try {
    return { ref: parseSecretRef(p), version: v };
  } catch (err) {
    throw invalid(field, (err as Error).message);
  }
}

/** `NAME=PATH[@VERSION][#FIELD][:FORMAT]` from --secret. */
export function parseSecretFlag(s: string): { name: string; path: string; field?: string; format?: string } {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new ArcaError('ERR_CONFIG_INVALID', '--secret must be NAME=PATH[#FIELD][:FORMAT], e.g. db.env=secret/app/db:env');
  const name = s.slice(0, eq);
  let rest = s.slice(eq + 1);
  const out: { name: string; path: string; field?: string; format?: string } = { name, path: '' };
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    out.format = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    out.field = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  out.path = rest;
  return out;
}

/** `VAR=PATH[@VERSION]#FIELD` from --env. */
export function parseEnvFlag(s: string): { name: string; path: string; field: string } {
  const m = /^([^=]+)=([^#]+)#(.+)$/.exec(s);
  if (!m) throw new ArcaError('ERR_CONFIG_INVALID', '--env must be VAR=PATH#FIELD, e.g. DB_PASSWORD=secret/app/db#password');
  return { name: m[1]!, path: m[2]!, field: m[3]! };
}
