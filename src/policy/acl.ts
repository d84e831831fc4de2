import type { Operation } from '../logical/index.ts';
import { ROOT_POLICY_NAME } from './builtin.ts';
import { type ControlGroup, controlGroupFor, mergeControlGroups } from './control-group.ts';
import { emptyParameterRules, hasParameterRules, mergeParameterRules, type ParameterRules, parametersPermit } from './parameters.ts';
import { DEFAULT_ROOT_PATHS, matchesRootPath } from './root-paths.ts';
import type { Capability, PathRule, Policy } from './types.ts';

/** A merged rule: all stanzas with the same kind and path string, across every policy of the token. */
interface MergedRule {
  readonly pattern: string;
  readonly kind: PathRule['kind'];
  readonly key: string;
  readonly caps: Set<Capability>;
  /** Names of the policies that contributed, for diagnostics. */
  readonly policies: Set<string>;
  readonly params: ParameterRules;
  controlGroup?: ControlGroup;
}

export interface AclDecision {
  allowed: boolean;
  /** The capability the operation needed. */
  capability: Capability;
  /** The path is root-protected, so `sudo` was needed too. */
  sudoRequired: boolean;
  /** The rule's capabilities include `sudo` (or the token is root). */
  rootPrivs: boolean;
  /** The pattern of the one rule that decided, or undefined when none matched (default deny). */
  rule: string | undefined;
  /** Policies that contributed to the deciding rule. */
  policies: string[];
  /** The capability was granted but the request data broke the rule's parameter constraints. */
  parametersDenied: boolean;
}

export interface AclOptions {
  /** Root-protected path patterns (`x*` = prefix). Defaults to Vault's list, see root-paths.ts. */
  rootPaths?: readonly string[];
}

/** Vault's operation → capability mapping (renew/revoke are `update` operations in the core). */
export function operationCapability(op: Operation): Capability {
  switch (op) {
    case 'read':
      return 'read';
    case 'list':
      return 'list';
    case 'create':
      return 'create';
    case 'update':
      return 'update';
    case 'patch':
      return 'patch';
    case 'delete':
      return 'delete';
  }
}

function stripLeadingSlashes(path: string): string {
  let i = 0;
  while (path[i] === '/') i++;
  return path.slice(i);
}

interface Candidate {
  rule: MergedRule;
  firstWildcard: number;
  isPrefix: boolean;
  wildcards: number;
  /** Pattern without the trailing `*`. */
  body: string;
}

/** Vault's priority order for competing non-exact rules: returns > 0 when `a` beats `b`. */
function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcards !== b.wildcards) return b.wildcards - a.wildcards;
  if (a.body.length !== b.body.length) return a.body.length - b.body.length;
  return a.body < b.body ? -1 : a.body > b.body ? 1 : 0;
}

/**
 * The effective ACL of a token: its policies compiled into exact, prefix and segment rules.
 * Exactly one rule decides a request (Vault's model): an exact rule if one matches, otherwise the
 * highest-priority glob/segment rule; no match means no capabilities (default deny).
 */
export class Acl {
  readonly isRoot: boolean;
  /** Whether any rule carries a control group (the core skips the lookup otherwise). */
  hasControlGroups = false;
  readonly policyNames: readonly string[];
  readonly #exact = new Map<string, MergedRule>();
  readonly #prefix = new Map<string, MergedRule>();
  readonly #segment = new Map<string, MergedRule>();
  readonly #rootPaths: readonly string[];

  constructor(policies: readonly Policy[], opts: AclOptions = {}) {
    this.policyNames = policies.map((p) => p.name);
    this.isRoot = policies.some((p) => p.name === ROOT_POLICY_NAME);
    this.#rootPaths = opts.rootPaths ? Object.freeze([...opts.rootPaths]) : DEFAULT_ROOT_PATHS;
    for (const policy of policies) {
      for (const r of policy.rules) {
        const table = r.kind === 'exact' ? this.#exact : r.kind === 'prefix' ? this.#prefix : this.#segment;
        let merged = table.get(r.key);
        if (!merged) {
          merged = { pattern: r.pattern, kind: r.kind, key: r.key, caps: new Set(), policies: new Set(), params: emptyParameterRules() };
          table.set(r.key, merged);
        }
        merged.policies.add(policy.name);
        if (merged.caps.has('deny')) continue;
        if (r.capabilities.has('deny')) {
          merged.caps.clear();
          merged.caps.add('deny');
          Object.assign(merged.params, emptyParameterRules());
          continue;
        }
        for (const c of r.capabilities) merged.caps.add(c);
        mergeParameterRules(merged.params, r);
        if (r.controlGroup) {
          merged.controlGroup = mergeControlGroups(merged.controlGroup, r.controlGroup);
          this.hasControlGroups = true;
        }
      }
    }
  }

  /** Whether `path` is root-protected (needs `sudo` besides the operation's capability). */
  isRootPath(path: string): boolean {
    return matchesRootPath(stripLeadingSlashes(path), this.#rootPaths);
  }

  /** The one rule deciding `path`, following Vault's AllowOperation lookup order. */
  #resolve(rawPath: string, isList: boolean): MergedRule | undefined {
    const path = stripLeadingSlashes(rawPath);
    const exact = this.#exact.get(path);
    if (exact) return exact;
    if (isList && path.endsWith('/')) {
      const exactList = this.#exact.get(path.slice(0, -1));
      if (exactList) return exactList;
    }
    // Glob and segment rules see the list path WITH its trailing slash (as Vault's AllowOperation does):
    // trimming it would let `secret/metadata/*` decide `secret/metadata/admin/` over a deny on
    // `secret/metadata/admin/*`.
    return this.#nonExact(path);
  }

  #nonExact(path: string): MergedRule | undefined {
    const candidates: Candidate[] = [];
    // The longest matching prefix rule is the only prefix candidate.
    let best: MergedRule | undefined;
    for (const r of this.#prefix.values()) {
      if (path.startsWith(r.key) && (!best || r.key.length > best.key.length)) best = r;
    }
    if (best) candidates.push({ rule: best, firstWildcard: best.key.length, isPrefix: true, wildcards: 0, body: best.key });
    if (this.#segment.size > 0) {
      const parts = path.split('/');
      for (const r of this.#segment.values()) {
        const c = matchSegmentRule(r, parts);
        if (c) candidates.push(c);
      }
    }
    if (candidates.length === 0) return undefined;
    let win = candidates[0]!;
    for (const c of candidates.slice(1)) if (compareCandidates(c, win) > 0) win = c;
    return win.rule;
  }

  /**
   * Capabilities granted on `path` by the deciding rule (a `deny` rule yields just `deny`).
   * Without `op`, a path ending in `/` is looked up as a list (only lists address such paths).
   */
  capabilities(path: string, op?: Operation): ReadonlySet<Capability> {
    if (this.isRoot) return new Set(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo']);
    const isList = op === undefined ? path.endsWith('/') : op === 'list';
    return new Set(this.#resolve(path, isList)?.caps ?? []);
  }

  /**
   * Full decision for an operation on a logical path (after `/v1/`). Pass the request `data` to enforce
   * `allowed_parameters` / `denied_parameters` / `required_parameters` (read, create, update, patch).
   */
  check(path: string, op: Operation, data?: Readonly<Record<string, unknown>>): AclDecision {
    const capability = operationCapability(op);
    const sudoRequired = this.isRootPath(path);
    if (this.isRoot) {
      return { allowed: true, capability, sudoRequired, rootPrivs: true, rule: '*', policies: [ROOT_POLICY_NAME], parametersDenied: false };
    }
    const rule = this.#resolve(path, op === 'list');
    const caps = rule?.caps ?? new Set<Capability>();
    const rootPrivs = caps.has('sudo');
    let allowed = !caps.has('deny') && caps.has(capability) && (!sudoRequired || rootPrivs);
    let parametersDenied = false;
    if (allowed && rule && data && op !== 'list' && op !== 'delete' && hasParameterRules(rule.params)) {
      parametersDenied = !parametersPermit(rule.params, data);
      allowed = !parametersDenied;
    }
    return { allowed, capability, sudoRequired, rootPrivs, rule: rule?.pattern, policies: rule ? [...rule.policies].sort() : [], parametersDenied };
  }

  allows(path: string, op: Operation, data?: Readonly<Record<string, unknown>>): boolean {
    return this.check(path, op, data).allowed;
  }

  /** The control group of the rule deciding an allowed operation (its factors for this capability), if any. */
  controlGroup(path: string, op: Operation): ControlGroup | undefined {
    if (this.isRoot || !this.hasControlGroups) return undefined;
    return controlGroupFor(this.#resolve(path, op === 'list')?.controlGroup, operationCapability(op));
  }

  /**
   * Whether the token has any non-deny capability on `prefix` or below it (Vault's bare-mount check, used by
   * the mount preflight `sys/internal/ui/mounts`). `prefix` should end with `/`.
   */
  hasAnyUnder(prefix: string): boolean {
    if (this.isRoot) return true;
    const p = stripLeadingSlashes(prefix);
    const grants = (r: MergedRule) => r.caps.size > 0 && !r.caps.has('deny');
    for (const r of this.#exact.values()) if ((r.key.startsWith(p) || `${r.key}/` === p) && grants(r)) return true;
    for (const r of this.#prefix.values()) if ((r.key.startsWith(p) || p.startsWith(r.key)) && grants(r)) return true;
    for (const r of this.#segment.values()) if (grants(r) && segmentRuleCouldCover(r, p)) return true;
    return false;
  }
}

/**
 * The `sys/capabilities*` answer for one path from the capabilities granted there (`Acl.capabilities`
 * or an Authorizer's): the sorted names, `["root"]` for a root token, `["deny"]` when nothing applies
 * (a deny rule's set is `deny` alone).
 */
export function capabilityNames(caps: ReadonlySet<string>, root: boolean): string[] {
  if (root) return ['root'];
  return caps.size ? [...caps].sort() : ['deny'];
}

function matchSegmentRule(r: MergedRule, parts: string[]): Candidate | undefined {
  const isPrefix = r.pattern.endsWith('*');
  const body = isPrefix ? r.pattern.slice(0, -1) : r.pattern;
  const ruleParts = body.split('/');
  if (parts.length < ruleParts.length) return undefined;
  if (!isPrefix && parts.length !== ruleParts.length) return undefined;
  let wildcards = 0;
  for (let i = 0; i < ruleParts.length; i++) {
    const rp = ruleParts[i]!;
    const pp = parts[i]!;
    if (rp === '+') wildcards++;
    else if (rp === pp) continue;
    else if (isPrefix && i === ruleParts.length - 1 && pp.startsWith(rp)) continue;
    else return undefined;
  }
  return { rule: r, firstWildcard: r.pattern.indexOf('+'), isPrefix, wildcards, body };
}

/** Could a segment rule match some path under `prefix` (prefix ends with `/`)? */
function segmentRuleCouldCover(r: MergedRule, prefix: string): boolean {
  const want = prefix.split('/').slice(0, -1);
  const isPrefix = r.pattern.endsWith('*');
  const ruleParts = (isPrefix ? r.pattern.slice(0, -1) : r.pattern).split('/');
  for (let i = 0; i < want.length; i++) {
    const rp = ruleParts[i];
    if (rp === undefined) return isPrefix;
    if (rp === '+' || rp === want[i]) continue;
    if (isPrefix && i === ruleParts.length - 1 && want[i]!.startsWith(rp)) return true;
    return false;
  }
  return true;
}
