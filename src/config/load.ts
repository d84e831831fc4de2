import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { ServerConfig } from './schema.ts';

export interface ConfigSources {
  file?: string;
  /** Flag values (already parsed), applied last. */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** Environment variables that override file settings (ARCA_* → config path). */
const ENV_MAP: Record<string, string[]> = {
  ARCA_LISTEN: ['listen'],
  ARCA_DATA_DIR: ['dataDir'],
  ARCA_API_ADDR: ['apiAddr'],
  ARCA_LOG_LEVEL: ['log', 'level'],
};

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** Loads file → ARCA_* env → flags, validates once with zod, and freezes the result. */
export function loadServerConfig(src: ConfigSources = {}): Readonly<ServerConfig> {
  let raw: Record<string, unknown> = {};
  if (src.file) {
    let text: string;
    try {
      text = readFileSync(src.file, 'utf8');
    } catch (err) {
      throw new ArcaError('ERR_CONFIG_READ', `cannot read config file ${src.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ArcaError('ERR_CONFIG_INVALID', `config file ${src.file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (parsed === null || parsed === undefined) parsed = {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ArcaError('ERR_CONFIG_INVALID', `config file ${src.file} must hold a YAML mapping`);
    }
    raw = parsed as Record<string, unknown>;
  }
  const env = src.env ?? process.env;
  for (const [name, path] of Object.entries(ENV_MAP)) {
    const v = env[name];
    if (v !== undefined && v !== '') setPath(raw, path, v);
  }
  for (const [k, v] of Object.entries(src.overrides ?? {})) {
    if (v !== undefined) setPath(raw, k.split('.'), v);
  }
  return parseConfig(raw);
}

export function parseConfig(raw: unknown): Readonly<ServerConfig> {
  const r = ServerConfig.safeParse(raw);
  if (!r.success) throw configError(r.error);
  return deepFreeze(r.data);
}

function configError(err: z.ZodError): ArcaError {
  const lines = err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return new ArcaError('ERR_CONFIG_INVALID', `invalid config: ${lines.join('; ')}`, {
    details: { issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The config as printed by --print-config: no secret values (there are none inline by design). */
export function redactConfig(c: Readonly<ServerConfig>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
  if (copy['devRootToken'] !== undefined) copy['devRootToken'] = '[REDACTED]';
  const storage = copy['storage'] as Record<string, unknown>;
  if (typeof storage['url'] === 'string') storage['url'] = storage['url'].replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:[REDACTED]@');
  return copy;
}
