/**
 * The template-free output formats. Each takes the secret's fields (a KV v2 `data` object) and
 * returns text; keys are sorted so the same secret always renders to the same bytes (the agent
 * compares bytes to decide whether a file changed).
 *
 * Errors name the field (a key the operator chose, not secret material), never a value.
 */
import { ArcaError } from '../errors/index.ts';

export const FORMATS = ['raw', 'env', 'json', 'yaml', 'properties'] as const;
export type Format = (typeof FORMATS)[number];

export type Fields = Readonly<Record<string, unknown>>;

/** A value as text: strings as they are, anything else (numbers, booleans, objects) as JSON. */
export function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
}

function sortedKeys(f: Fields): string[] {
  return Object.keys(f).sort();
}

/** One field's value, verbatim, with no trailing newline added (files like TLS keys stay exact). */
export function formatRaw(f: Fields, field: string | undefined): string {
  if (field === undefined) {
    const keys = Object.keys(f);
    if (keys.length !== 1) throw new ArcaError('ERR_RENDER_INVALID', `format raw needs a field when the secret has ${keys.length} fields (use PATH#FIELD)`);
    return scalarText(f[keys[0]!]);
  }
  if (!Object.hasOwn(f, field)) throw new ArcaError('ERR_RENDER_FIELD_MISSING', `field "${field}" is not in the secret`);
  return scalarText(f[field]);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` can be a POSIX shell variable name. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * Single-quotes a value for POSIX sh: inside '...' nothing is special except the quote itself,
 * which becomes '\'' (close, escaped quote, reopen). So `. file` never expands $, `, \ or newlines.
 */
export function shellQuote(v: string): string {
  if (v.includes('\0')) throw new ArcaError('ERR_RENDER_INVALID', 'a value contains a NUL byte, which no environment variable can hold');
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

/** `KEY='value'` lines, safe to `source` from sh/bash. Keys must be valid variable names. */
export function formatEnv(f: Fields): string {
  let out = '';
  for (const k of sortedKeys(f)) {
    if (!isEnvName(k)) throw new ArcaError('ERR_RENDER_INVALID', `field "${k}" is not a valid environment variable name (letters, digits, _; not starting with a digit)`);
    out += `${k}=${shellQuote(scalarText(f[k]))}\n`;
  }
  return out;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = sortDeep((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

export function formatJson(f: Fields): string {
  return `${JSON.stringify(sortDeep(f), null, 2)}\n`;
}

// A plain YAML scalar is used only when no YAML 1.1 or 1.2 reader can take it for anything but
// a string: no indicator first, no ': ' or ' #', not a bool/null/number lookalike. Everything
// else is written as a JSON string, which is a valid YAML double-quoted scalar.
const YAML_PLAIN = /^[A-Za-z_/][A-Za-z0-9_/.@+-]*$/;
const YAML_RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~|\.nan|\.inf|[-+]?\.inf)$/i;
// `E0`, `e5`: the yaml package's YAML 1.1 float rule lets the mantissa be empty, so these read as numbers.
const NUMBERISH = /^[-+]?(?:\.?\d|0x|0o|0b|e[-+]?\d)/i;

function yamlString(s: string): string {
  return YAML_PLAIN.test(s) && !YAML_RESERVED.test(s) && !NUMBERISH.test(s) && !s.includes('..') ? s : JSON.stringify(s);
}

/** `key: value` per field; nested values in JSON flow style (valid YAML), strings quoted when needed. */
export function formatYaml(f: Fields): string {
  let out = '';
  for (const k of sortedKeys(f)) {
    const v = f[k];
    const text = typeof v === 'string' ? yamlString(v) : JSON.stringify(sortDeep(v)) ?? 'null';
    out += `${yamlString(k)}: ${text}\n`;
  }
  return out;
}

/**
 * java.util.Properties escaping as `Properties.store` does it: \t \n \r \f and \\ as escapes,
 * = : # ! escaped, spaces escaped in keys and a leading space in values, and every character
 * outside printable ASCII as \uXXXX (UTF-16 code units), so the file is plain ASCII and reads back
 * the same with `load(InputStream)` (ISO-8859-1) or `load(Reader)`.
 */
export function propertiesEscape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === ' ') out += isKey || i === 0 ? '\\ ' : ' ';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if (ch === '=' || ch === ':' || ch === '#' || ch === '!') out += `\\${ch}`;
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

export function formatProperties(f: Fields): string {
  let out = '';
  for (const k of sortedKeys(f)) out += `${propertiesEscape(k, true)}=${propertiesEscape(scalarText(f[k]), false)}\n`;
  return out;
}
