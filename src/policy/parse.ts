import { parse as parseYaml } from 'yaml';
import { ArcaError } from '../errors/index.ts';
import { parseControlGroup } from './control-group.ts';
import { type HclItem, parseHcl } from './hcl.ts';
import { type Capability, isCapability, type ParameterConstraints, type PathRule, type Policy, type RuleKind } from './types.ts';

/** Policy documents larger than this are refused before parsing. */
export const MAX_POLICY_BYTES = 1024 * 1024;

const TOP_LEVEL_KEYS = new Set(['name', 'path']);
const PATH_KEYS = new Set([
  'comment',
  'policy',
  'capabilities',
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'mfa_methods',
  'control_group',
]);

/** Vault's legacy `policy = "..."` shorthand. */
const LEGACY_POLICY: Record<string, Capability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

function invalid(message: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', `failed to parse policy: ${message}`);
}

type Format = 'json' | 'yaml' | 'hcl';

/** JSON starts with `{`; YAML's first significant line is `key:` or `- `; anything else is HCL. */
export function detectFormat(text: string): Format {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith('//') || line === '---') continue;
    if (line.startsWith('{')) return 'json';
    if (/^("[^"]*"|'[^']*'|[A-Za-z_][\w.-]*)\s*:(\s|$)/.test(line)) return 'yaml';
    return 'hcl';
  }
  return 'hcl';
}

interface RawStanza {
  pattern: string;
  body: unknown;
  where: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON / YAML: `{"path": {"p": {...}}}` or HCL-JSON's list form `{"path": [{"p": {...}}]}`. */
function stanzasFromDocument(doc: unknown, format: Format): RawStanza[] {
  if (!isRecord(doc)) throw invalid(`the ${format.toUpperCase()} document must be an object with a "path" key`);
  for (const k of Object.keys(doc)) {
    if (!TOP_LEVEL_KEYS.has(k)) throw invalid(`unknown top-level key "${k}" (allowed: name, path)`);
  }
  const paths = doc['path'];
  const out: RawStanza[] = [];
  const addMap = (m: unknown) => {
    if (!isRecord(m)) throw invalid('"path" must map path patterns to rule objects');
    for (const [pattern, body] of Object.entries(m)) out.push({ pattern, body, where: `path "${pattern}"` });
  };
  if (paths === undefined || paths === null) return out;
  if (Array.isArray(paths)) for (const m of paths) addMap(m);
  else addMap(paths);
  return out;
}

function stanzasFromHcl(items: HclItem[]): RawStanza[] {
  const out: RawStanza[] = [];
  for (const it of items) {
    if (!TOP_LEVEL_KEYS.has(it.key)) throw invalid(`line ${it.line}: unknown top-level key "${it.key}" (allowed: name, path)`);
    if (it.key === 'name') continue;
    if (it.labels.length === 1) {
      const pattern = it.labels[0]!;
      out.push({ pattern, body: it.value, where: `line ${it.line}: path "${pattern}"` });
    } else if (it.labels.length === 0 && isRecord(it.value)) {
      // `path = { "p" = {...} }` is valid HCL for the same structure.
      for (const [pattern, body] of Object.entries(it.value)) {
        out.push({ pattern, body, where: `line ${it.line}: path "${pattern}"` });
      }
    } else {
      throw invalid(`line ${it.line}: expected path "<pattern>" { ... }`);
    }
  }
  return out;
}

function stringList(v: unknown, where: string, field: string): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(`${where}: "${field}" must be a list of strings`);
  return v as string[];
}

function constraints(v: unknown, where: string, field: string): ParameterConstraints {
  // HCL-JSON sometimes wraps objects in a one-element list.
  const obj = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (!isRecord(obj)) throw invalid(`${where}: "${field}" must map parameter names to lists of values`);
  const out = Object.create(null) as Record<string, readonly unknown[]>;
  for (const [k, vals] of Object.entries(obj)) {
    if (!Array.isArray(vals)) throw invalid(`${where}: "${field}.${k}" must be a list`);
    out[k] = vals;
  }
  return out;
}

function classify(pattern: string, where: string): { pattern: string; kind: RuleKind; key: string } {
  const p = pattern.replace(/^\/+/, '');
  if (p.includes('+*')) throw invalid(`${where}: "+*" is not allowed; use "+/*" or a trailing "*"`);
  if (p.length > 4096) throw invalid(`${where}: path pattern too long`);
  // Like Vault, any `+` makes a segment rule; only a whole `+` segment is a wildcard, others compare literally.
  if (p.includes('+')) return { pattern: p, kind: 'segment', key: p };
  if (p.endsWith('*')) return { pattern: p, kind: 'prefix', key: p.slice(0, -1) };
  return { pattern: p, kind: 'exact', key: p };
}

function toRule(s: RawStanza): PathRule {
  const { where } = s;
  const body = Array.isArray(s.body) && s.body.length === 1 ? s.body[0] : s.body;
  if (!isRecord(body)) throw invalid(`${where}: the rule must be an object, e.g. { capabilities = ["read"] }`);
  for (const k of Object.keys(body)) {
    if (!PATH_KEYS.has(k)) throw invalid(`${where}: unknown key "${k}"`);
  }
  const caps = new Set<Capability>();
  if (body['capabilities'] !== undefined) {
    for (const c of stringList(body['capabilities'], where, 'capabilities')) {
      const lc = c.toLowerCase();
      if (!isCapability(lc)) throw invalid(`${where}: unknown capability "${c.slice(0, 64)}"`);
      caps.add(lc);
    }
  }
  if (body['policy'] !== undefined) {
    const legacy = typeof body['policy'] === 'string' ? LEGACY_POLICY[body['policy'].toLowerCase()] : undefined;
    if (!legacy) throw invalid(`${where}: invalid policy value (use deny, read, write or sudo)`);
    for (const c of legacy) caps.add(c);
  }
  // A stanza with `deny` denies everything on its path: the other capabilities are discarded.
  if (caps.has('deny')) {
    caps.clear();
    caps.add('deny');
  }
  const cls = classify(s.pattern, where);
  const rule: {
    -readonly [K in keyof PathRule]: PathRule[K];
  } = { ...cls, capabilities: caps };
  if (body['allowed_parameters'] !== undefined) rule.allowedParameters = constraints(body['allowed_parameters'], where, 'allowed_parameters');
  if (body['denied_parameters'] !== undefined) rule.deniedParameters = constraints(body['denied_parameters'], where, 'denied_parameters');
  if (body['required_parameters'] !== undefined) rule.requiredParameters = stringList(body['required_parameters'], where, 'required_parameters');
  if (body['control_group'] !== undefined) rule.controlGroup = parseControlGroup(body['control_group'], where);
  return rule;
}

/**
 * Parses a policy document (HCL subset, JSON or YAML — all with Vault's structure) into rules.
 * Throws ArcaError `ERR_INVALID_REQUEST` naming the line (HCL) or path pattern at fault.
 */
export function parsePolicy(name: string, text: string): Policy {
  const lname = name.trim().toLowerCase();
  if (lname === '') throw new ArcaError('ERR_INVALID_REQUEST', 'policy name must be provided');
  if (lname === 'root') throw new ArcaError('ERR_INVALID_REQUEST', 'cannot update "root" policy');
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw invalid(`document larger than ${MAX_POLICY_BYTES} bytes`);
  const format = detectFormat(text);
  let stanzas: RawStanza[];
  if (format === 'hcl') {
    stanzas = stanzasFromHcl(parseHcl(text));
  } else {
    let doc: unknown;
    try {
      doc = format === 'json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 16 });
    } catch (err) {
      const detail = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'syntax error';
      throw new ArcaError('ERR_INVALID_REQUEST', `failed to parse policy: invalid ${format.toUpperCase()}: ${detail}`, { cause: err });
    }
    stanzas = stanzasFromDocument(doc, format);
  }
  return { name: lname, rules: stanzas.map(toRule), text };
}
