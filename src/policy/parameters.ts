import type { ParameterConstraints } from './types.ts';

/** Parameter constraints of one (merged) rule. Keys are lower-cased. */
export interface ParameterRules {
  allowed: Record<string, unknown[]> | undefined;
  denied: Record<string, unknown[]> | undefined;
  required: string[];
}

export function emptyParameterRules(): ParameterRules {
  return { allowed: undefined, denied: undefined, required: [] };
}

/** Null-prototype maps: parameter names like `__proto__` or `constructor` must be plain keys. */
function lowerKeys(c: ParameterConstraints): Record<string, unknown[]> {
  const out = Object.create(null) as Record<string, unknown[]>;
  for (const [k, v] of Object.entries(c)) out[k.toLowerCase()] = [...v];
  return out;
}

/** Vault's merge of the same path across policies: an empty list ("any value") wins, otherwise lists concatenate. */
function mergeMap(into: Record<string, unknown[]> | undefined, add: ParameterConstraints | undefined): Record<string, unknown[]> | undefined {
  if (!add || Object.keys(add).length === 0) return into;
  const lower = lowerKeys(add);
  if (!into) return lower;
  for (const [k, v] of Object.entries(lower)) {
    const have = into[k];
    into[k] = v.length === 0 || (have !== undefined && have.length === 0) ? [] : [...v, ...(have ?? [])];
  }
  return into;
}

export function mergeParameterRules(
  into: ParameterRules,
  add: { allowedParameters?: ParameterConstraints; deniedParameters?: ParameterConstraints; requiredParameters?: readonly string[] },
): void {
  into.allowed = mergeMap(into.allowed, add.allowedParameters);
  into.denied = mergeMap(into.denied, add.deniedParameters);
  for (const r of add.requiredParameters ?? []) if (!into.required.includes(r)) into.required.push(r);
}

export function hasParameterRules(p: ParameterRules): boolean {
  return p.allowed !== undefined || p.denied !== undefined || p.required.length > 0;
}

/** Vault's GlobbedStringsMatch: `*` alone, or a leading and/or trailing `*`. */
function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const pre = pattern.startsWith('*');
  const suf = pattern.endsWith('*');
  if (pre && suf) return value.includes(pattern.slice(1, -1));
  if (pre) return value.endsWith(pattern.slice(1));
  if (suf) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

function inList(v: unknown, list: readonly unknown[]): boolean {
  for (const el of list) {
    if (el === null || v === null || el === undefined || v === undefined) {
      if (el === v) return true;
    } else if (typeof el === 'string') {
      if (typeof v === 'string' && globMatch(el, v)) return true;
    } else if (JSON.stringify(el) === JSON.stringify(v)) {
      return true;
    }
  }
  return false;
}

function commaItems(v: string): string[] {
  return v.split(',').map((s) => s.trim());
}

function inAllowedList(v: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0 || inList(v, list)) return true;
  if (Array.isArray(v)) return v.every((x) => inList(x, list));
  if (typeof v === 'string') return commaItems(v).every((x) => inList(x, list));
  return false;
}

function inDeniedList(v: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0 || inList(v, list)) return true;
  if (Array.isArray(v)) return v.some((x) => inList(x, list));
  if (typeof v === 'string') return commaItems(v).some((x) => inList(x, list));
  return false;
}

/**
 * Vault's parameter checks for one request's data (applied to read, create, update and patch):
 * required parameters must be present; a denied parameter (any value for an empty list, `*` = every
 * parameter) refuses; with allowed parameters set, every parameter must be allowed (`*` = any name).
 */
export function parametersPermit(p: ParameterRules, data: Readonly<Record<string, unknown>>): boolean {
  const lowerData = new Map<string, unknown>();
  for (const [k, v] of Object.entries(data)) lowerData.set(k.toLowerCase(), v);
  for (const r of p.required) if (!lowerData.has(r.toLowerCase())) return false;
  if (lowerData.size === 0) return true;
  if (p.denied) {
    if (Object.hasOwn(p.denied, '*')) return false;
    for (const [k, v] of lowerData) {
      const list = Object.hasOwn(p.denied, k) ? p.denied[k] : undefined;
      if (list !== undefined && inDeniedList(v, list)) return false;
    }
  }
  if (!p.allowed || Object.keys(p.allowed).length === 0) return true;
  const allowedAll = Object.hasOwn(p.allowed, '*');
  if (allowedAll && Object.keys(p.allowed).length === 1) return true;
  for (const [k, v] of lowerData) {
    const list = Object.hasOwn(p.allowed, k) ? p.allowed[k] : undefined;
    if (list === undefined && !allowedAll) return false;
    if (list !== undefined && !inAllowedList(v, list)) return false;
  }
  return true;
}
