/**
 * Token roles (Vault's `auth/token/roles/:role_name` and `auth/token/create/:role_name`): a named set
 * of rules a token created through the role follows, so a caller can be allowed to mint tokens with
 * policies it does not hold itself (e.g. a CI job's token that may create deploy tokens). Fields as
 * Vault's token store: `allowed_policies(_glob)`, `disallowed_policies(_glob)`, `orphan`, `renewable`,
 * `path_suffix`, and the token fields `token_period`, `token_explicit_max_ttl`, `token_num_uses`,
 * `token_bound_cidrs`, `token_no_default_policy`, `token_type` (with `period`, `explicit_max_ttl`,
 * `bound_cidrs` as older names). `allowed_entity_aliases` is refused: Arca's tokens act for an entity
 * only when a login issues them. Role writes are upserts of the given fields, as Vault's.
 *
 * `resolveRolePolicies` is Vault's policy rule for a role-based create, PURE.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { checkRoleName, globMatch, parseFields, vBool, vStringList } from '../../engines/index.ts';
import { checkTokenFields, MAX_TOKEN_LIST, TOKEN_FIELDS_DEFAULTS, type TokenFields, tokenFieldsShape, type TokenType } from '../../engines/token-fields.ts';
import type { Storage } from '../../storage/index.ts';

const PATH_SUFFIX = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

type RoleTokenFields = Pick<TokenFields, 'token_period' | 'token_explicit_max_ttl' | 'token_num_uses' | 'token_bound_cidrs' | 'token_no_default_policy' | 'token_type'>;

export interface TokenRole extends RoleTokenFields {
  allowed_policies: string[];
  allowed_policies_glob: string[];
  disallowed_policies: string[];
  disallowed_policies_glob: string[];
  orphan: boolean;
  renewable: boolean;
  path_suffix: string;
}

const DEFAULTS: TokenRole = {
  allowed_policies: [], allowed_policies_glob: [], disallowed_policies: [], disallowed_policies_glob: [],
  orphan: false, renewable: true, path_suffix: '',
  token_period: 0, token_explicit_max_ttl: 0, token_num_uses: 0, token_bound_cidrs: [], token_no_default_policy: false,
  // Vault's token roles default to service tokens that a create may ask to be batch.
  token_type: 'default-service',
};

const list = (field: string) => vStringList.refine((l) => l.length <= MAX_TOKEN_LIST, `${field} lists at most ${MAX_TOKEN_LIST} entries`);
export const RoleFields = z.object({
  allowed_policies: list('allowed_policies').optional(),
  allowed_policies_glob: list('allowed_policies_glob').optional(),
  disallowed_policies: list('disallowed_policies').optional(),
  disallowed_policies_glob: list('disallowed_policies_glob').optional(),
  orphan: vBool.optional(),
  renewable: vBool.optional(),
  path_suffix: z.string().max(256).refine((s) => s === '' || (PATH_SUFFIX.test(s) && !s.split('/').includes('..')), 'path_suffix must be letters, digits, "_", "-", "." and "/" separated segments, without ".."').optional(),
  allowed_entity_aliases: list('allowed_entity_aliases').optional(),
  token_period: tokenFieldsShape.token_period,
  period: tokenFieldsShape.period,
  token_explicit_max_ttl: tokenFieldsShape.token_explicit_max_ttl,
  explicit_max_ttl: tokenFieldsShape.token_explicit_max_ttl,
  token_num_uses: tokenFieldsShape.token_num_uses,
  token_bound_cidrs: tokenFieldsShape.token_bound_cidrs,
  bound_cidrs: tokenFieldsShape.bound_cidrs,
  token_no_default_policy: tokenFieldsShape.token_no_default_policy,
  token_type: tokenFieldsShape.token_type,
});

/** A policy list as stored: trimmed, lower-case, without blanks or repeats, sorted. */
const norm = (l: string[]) => [...new Set(l.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();

/** The policies a new token gets from a request's list: `norm`, and Vault's rule that `root` stands alone. */
export function sanitizePolicies(l: string[]): string[] {
  const out = norm(l);
  return out.includes('root') ? ['root'] : out;
}

/** A token role's token_type as written and as applied: Vault's `default` is `default-service` for token roles. */
export function roleTokenType(t: TokenType): Exclude<TokenType, 'default'> {
  return t === 'default' ? 'default-service' : t;
}

/** The given fields over `current` (an upsert), the new name winning over its older one, then Vault's checks. */
export function mergeRole(current: Readonly<TokenRole>, data: Record<string, unknown>): TokenRole {
  const f = parseFields(RoleFields, data);
  if (f.allowed_entity_aliases?.length) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'allowed_entity_aliases is not supported: a token acts for an identity entity only when an auth method login issues it', { details: { field: 'allowed_entity_aliases' } });
  }
  const r: TokenRole = { ...current };
  if (f.allowed_policies) r.allowed_policies = norm(f.allowed_policies);
  if (f.allowed_policies_glob) r.allowed_policies_glob = norm(f.allowed_policies_glob);
  if (f.disallowed_policies) r.disallowed_policies = norm(f.disallowed_policies);
  if (f.disallowed_policies_glob) r.disallowed_policies_glob = norm(f.disallowed_policies_glob);
  if (f.orphan !== undefined) r.orphan = f.orphan;
  if (f.renewable !== undefined) r.renewable = f.renewable;
  if (f.path_suffix !== undefined) r.path_suffix = f.path_suffix;
  const period = f.token_period ?? f.period;
  if (period !== undefined) r.token_period = period;
  const explicit = f.token_explicit_max_ttl ?? f.explicit_max_ttl;
  if (explicit !== undefined) r.token_explicit_max_ttl = explicit;
  if (f.token_num_uses !== undefined) r.token_num_uses = f.token_num_uses;
  const cidrs = f.token_bound_cidrs ?? f.bound_cidrs;
  if (cidrs !== undefined) r.token_bound_cidrs = cidrs;
  if (f.token_no_default_policy !== undefined) r.token_no_default_policy = f.token_no_default_policy;
  if (f.token_type !== undefined) r.token_type = roleTokenType(f.token_type);
  checkTokenFields({ ...TOKEN_FIELDS_DEFAULTS, ...r });
  // A glob may match "root": a create through the role still refuses root unless its parent is root.
  if (r.allowed_policies.includes('root')) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'a token role cannot allow the root policy: root tokens come from a root parent or from sys/generate-root', { details: { field: 'allowed_policies' } });
  }
  return r;
}

/** Vault's read shape (the older names echoed as Vault does). */
export function roleData(name: string, r: TokenRole): Record<string, unknown> {
  return {
    name, allowed_policies: r.allowed_policies, allowed_policies_glob: r.allowed_policies_glob,
    disallowed_policies: r.disallowed_policies, disallowed_policies_glob: r.disallowed_policies_glob,
    allowed_entity_aliases: [], orphan: r.orphan, renewable: r.renewable, path_suffix: r.path_suffix,
    token_period: r.token_period, period: r.token_period, token_explicit_max_ttl: r.token_explicit_max_ttl, explicit_max_ttl: r.token_explicit_max_ttl,
    token_num_uses: r.token_num_uses, token_bound_cidrs: r.token_bound_cidrs, token_no_default_policy: r.token_no_default_policy, token_type: r.token_type,
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Roles under their own view inside the barrier (`sys/token-roles/`). */
export class TokenRoles {
  readonly #s: () => Storage;
  constructor(storage: () => Storage) {
    this.#s = storage;
  }

  async get(name: string): Promise<TokenRole | undefined> {
    checkRoleName(name, 'role_name');
    const raw = await this.#s().get(name);
    return raw ? { ...DEFAULTS, ...(JSON.parse(dec.decode(raw)) as Partial<TokenRole>) } : undefined;
  }

  async write(name: string, data: Record<string, unknown>): Promise<void> {
    const next = mergeRole((await this.get(name)) ?? DEFAULTS, data);
    await this.#s().put(name, enc.encode(JSON.stringify(next)));
  }

  async delete(name: string): Promise<void> {
    checkRoleName(name, 'role_name');
    await this.#s().delete(name);
  }

  list(): Promise<string[]> {
    return this.#s().list('');
  }
}

/**
 * The policies of a token created through `role` (Vault's handleCreateCommon): with allowed policies
 * (or globs) the request (or, without one, the allowed list) must fall inside them, and the parent's
 * own policies do not limit it; without, the parent's rule applies (the caller's check). Disallowed
 * policies are refused either way; `default` is added unless the request, the role or a disallowed
 * entry says otherwise. Answers the sorted list, or throws a 400 that names the policy.
 */
export function resolveRolePolicies(
  role: TokenRole,
  requested: string[],
  parent: { policies: string[]; root: boolean },
  noDefaultPolicy: boolean,
): string[] {
  const restricted = role.allowed_policies.length > 0 || role.allowed_policies_glob.length > 0;
  let policies = sanitizePolicies(requested.length ? requested : restricted ? role.allowed_policies : parent.policies);
  if (policies.includes('root') && !parent.root) throw new ArcaError('ERR_INVALID_REQUEST', 'root tokens may not be created through a token role by a non-root token');
  if (restricted) {
    const outside = policies.filter((p) => p !== 'default' && !role.allowed_policies.includes(p) && !role.allowed_policies_glob.some((g) => globMatch(g, p)));
    if (outside.length) throw new ArcaError('ERR_INVALID_REQUEST', `token policies (${JSON.stringify(outside)}) must be subset of the role's allowed policies (${JSON.stringify(role.allowed_policies)}) or glob policies (${JSON.stringify(role.allowed_policies_glob)})`);
  } else if (!parent.root && policies.some((p) => p !== 'default' && !parent.policies.includes(p))) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'child policies must be subset of parent');
  }
  const disallowed = (p: string) => role.disallowed_policies.includes(p) || role.disallowed_policies_glob.some((g) => globMatch(g, p));
  const refused = policies.filter(disallowed);
  if (refused.length) throw new ArcaError('ERR_INVALID_REQUEST', `token policy ${JSON.stringify(refused[0])} is disallowed by this role`);
  if (!policies.includes('root') && !noDefaultPolicy && !role.token_no_default_policy && !disallowed('default') && !policies.includes('default')) {
    policies = [...policies, 'default'].sort();
  }
  return policies;
}
