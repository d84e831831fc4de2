/**
 * The token fields every auth method's role (or user) carries, as Vault's `sdk/helper/tokenutil`:
 * `token_policies`, `token_ttl`, `token_max_ttl`, `token_explicit_max_ttl`, `token_period`,
 * `token_num_uses`, `token_bound_cidrs`, `token_no_default_policy`, `token_type`, with the deprecated
 * aliases (`policies`, `ttl`, `max_ttl`, `period`, `num_uses`, `bound_cidrs`) older clients still send.
 * One parser, one set of checks (Vault's messages), one read shape and one login-side translation
 * for the kubernetes, userpass, cert and OIDC methods. PURE: no I/O.
 */
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { addrInCidrs, validCidr } from './cidr.ts';
import { vBool, vDuration, vInt, vStringList } from './fields.ts';
import type { AuthIssue } from './types.ts';

/** Vault's spellings of the type a role asks for. */
export const TOKEN_TYPES = ['default', 'service', 'default-service', 'batch', 'default-batch'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export interface TokenFields {
  token_policies: string[];
  token_ttl: number;
  /** Caps the token's life, renewals included (0 = none). */
  token_max_ttl: number;
  /** A second cap, kept apart because Vault reports it apart; the smaller one set wins. */
  token_explicit_max_ttl: number;
  /** Periodic tokens: every renewal resets the TTL to this (0 = not periodic). */
  token_period: number;
  token_num_uses: number;
  /** The login and every use of the token must come from inside these blocks (empty = anywhere). */
  token_bound_cidrs: string[];
  token_no_default_policy: boolean;
  /**
   * Vault's spellings: the type the role asks for. On an auth mount left at its default token_type,
   * `batch` and `default-batch` give batch tokens and the others service tokens; a tuned mount has
   * its say (core/login-token.ts).
   */
  token_type: TokenType;
}

export const TOKEN_FIELDS_DEFAULTS: Readonly<TokenFields> = Object.freeze({
  token_policies: [], token_ttl: 0, token_max_ttl: 0, token_explicit_max_ttl: 0, token_period: 0,
  token_num_uses: 0, token_bound_cidrs: [], token_no_default_policy: false, token_type: 'default',
});

/** Ten years: far beyond any sensible token lifetime, small enough that `now + ttl` stays exact. */
export const MAX_DURATION_SECONDS = 10 * 365 * 86400;
/** Fits a signed 32-bit counter, as Vault's `int` field does. */
export const MAX_NUM_USES = 2 ** 31 - 1;
/** A bound on a role's lists (policies, CIDR blocks), far beyond what any real role names. */
export const MAX_TOKEN_LIST = 256;

const duration = (field: string) =>
  vDuration.refine((n) => n <= MAX_DURATION_SECONDS, `${field} must be between 0 and ${MAX_DURATION_SECONDS} seconds`);
const numUses = (field: string) => vInt.refine((n) => n >= 0 && n <= MAX_NUM_USES, `${field} must be between 0 and ${MAX_NUM_USES}`);
const policies = (field: string) => vStringList.refine((l) => l.length <= MAX_TOKEN_LIST, `${field} lists at most ${MAX_TOKEN_LIST} policies`);
const cidr = z.string().refine(validCidr, 'token_bound_cidrs entries must be IP addresses or CIDR blocks such as 10.0.0.0/8');
const cidrs = (field: string) =>
  z.union([z.array(cidr), vStringList.pipe(z.array(cidr))]).refine((l) => l.length <= MAX_TOKEN_LIST, `${field} lists at most ${MAX_TOKEN_LIST} blocks`);

/** The zod fields to spread into an auth method's role (or user) schema. */
export const tokenFieldsShape = {
  token_policies: policies('token_policies').optional(),
  policies: policies('policies').optional(),
  token_ttl: duration('token_ttl').optional(),
  ttl: duration('ttl').optional(),
  token_max_ttl: duration('token_max_ttl').optional(),
  max_ttl: duration('max_ttl').optional(),
  token_explicit_max_ttl: duration('token_explicit_max_ttl').optional(),
  token_period: duration('token_period').optional(),
  period: duration('period').optional(),
  token_num_uses: numUses('token_num_uses').optional(),
  num_uses: numUses('num_uses').optional(),
  token_bound_cidrs: cidrs('token_bound_cidrs').optional(),
  bound_cidrs: cidrs('bound_cidrs').optional(),
  token_no_default_policy: vBool.optional(),
  token_type: z.enum(TOKEN_TYPES, 'token_type must be service, batch, default, default-service or default-batch').optional(),
};

const Shape = z.object(tokenFieldsShape);
export type TokenFieldsInput = z.output<typeof Shape>;

/** A stored record's token fields; fields added later take their defaults in records written before them. */
export function storedTokenFields<T extends Partial<TokenFields>>(stored: T): T & TokenFields {
  return { ...TOKEN_FIELDS_DEFAULTS, ...stored };
}

/**
 * Given fields over `current` (Vault's role writes are upserts of the given fields; a method whose
 * write replaces the role passes the defaults), the new name winning over its deprecated alias,
 * then Vault's checks. Throws ERR_INVALID_REQUEST naming the field; returns a new object.
 */
export function mergeTokenFields(current: Readonly<TokenFields>, f: TokenFieldsInput): TokenFields {
  const r: TokenFields = { ...current };
  const set = <K extends keyof TokenFields>(k: K, a: TokenFields[K] | undefined, b?: TokenFields[K]) => {
    const v = a !== undefined ? a : b;
    if (v !== undefined) r[k] = v;
  };
  set('token_policies', f.token_policies, f.policies);
  set('token_ttl', f.token_ttl, f.ttl);
  set('token_max_ttl', f.token_max_ttl, f.max_ttl);
  set('token_explicit_max_ttl', f.token_explicit_max_ttl);
  set('token_period', f.token_period, f.period);
  set('token_num_uses', f.token_num_uses, f.num_uses);
  set('token_bound_cidrs', f.token_bound_cidrs, f.bound_cidrs);
  set('token_no_default_policy', f.token_no_default_policy);
  set('token_type', f.token_type);
  checkTokenFields(r);
  return r;
}

function invalid(field: string, message: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message, { details: { field } });
}

/** Whether logins under these fields get batch tokens (core/batch-tokens.ts). */
export const issuesBatch = (r: Pick<TokenFields, 'token_type'>): boolean => r.token_type === 'batch' || r.token_type === 'default-batch';

/** Vault's tokenutil refusals, word for word where Vault has words. */
export function checkTokenFields(r: TokenFields): void {
  if (r.token_policies.includes('root')) throw invalid('token_policies', 'auth methods cannot create root tokens: remove "root" from token_policies');
  // A batch token is neither stored nor renewable, so it can carry neither a period nor a use count.
  if (issuesBatch(r) && r.token_period > 0) throw invalid('token_type', "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
  if (issuesBatch(r) && r.token_num_uses > 0) throw invalid('token_type', "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count");
  if (r.token_max_ttl > 0 && r.token_ttl > r.token_max_ttl) throw invalid('token_ttl', "'token_ttl' cannot be greater than 'token_max_ttl'");
}

/** The read shape, as Vault's: every `token_*` field, and the deprecated keys echoed only when set. */
export function tokenFieldsData(r: TokenFields): Record<string, unknown> {
  const out: Record<string, unknown> = {
    token_policies: r.token_policies, token_ttl: r.token_ttl, token_max_ttl: r.token_max_ttl,
    token_explicit_max_ttl: r.token_explicit_max_ttl, token_period: r.token_period, token_num_uses: r.token_num_uses,
    token_bound_cidrs: r.token_bound_cidrs, token_no_default_policy: r.token_no_default_policy, token_type: r.token_type,
  };
  if (r.token_policies.length) out['policies'] = r.token_policies;
  if (r.token_ttl) out['ttl'] = r.token_ttl;
  if (r.token_max_ttl) out['max_ttl'] = r.token_max_ttl;
  if (r.token_period) out['period'] = r.token_period;
  if (r.token_num_uses) out['num_uses'] = r.token_num_uses;
  if (r.token_bound_cidrs.length) out['bound_cidrs'] = r.token_bound_cidrs;
  return out;
}

/** The login's first check, before any credential is looked at (Vault's `cidrutil.RemoteAddrIsOk`). */
export function checkLoginFrom(r: TokenFields, clientAddr: string): void {
  if (!addrInCidrs(r.token_bound_cidrs, clientAddr)) {
    throw new ArcaError('ERR_PERMISSION_DENIED', 'login request originated from outside the token_bound_cidrs of this role (or user)');
  }
}

/** Of two caps or counts, the smaller one set (0 = not set). */
export const smallerSet = (a: number, b: number): number => (a > 0 && b > 0 ? Math.min(a, b) : a || b);

/** token_max_ttl and token_explicit_max_ttl both cap the token's life: the smaller one set wins (0 = none). */
const hardCap = (r: TokenFields): number => smallerSet(r.token_max_ttl, r.token_explicit_max_ttl);

/** Vault's display name for a login's token: the auth mount's path, then the method's name for who logged in. */
export function loginDisplayName(mountPoint: string, name: string): string {
  const mount = mountPoint.replace(/^auth\//, '').replace(/\/$/, '').replaceAll('/', '-');
  return `${mount}-${name}`.slice(0, 256);
}

/**
 * What a successful login asks the core to issue under these fields: the policies (plus `default`
 * unless `token_no_default_policy`), the TTL (0 when the role sets neither: the mount's default, else
 * the system's 768h), the caps, period, use count, the type asked for and the bound CIDRs. The core
 * applies the auth mount's own token_type and TTLs (core/login-token.ts). Logins issue orphan
 * tokens, as Vault's do.
 */
export function tokenIssue(
  r: TokenFields,
  login: { mountPoint: string; name: string; metadata: Record<string, string>; alias?: AuthIssue['alias'] },
): AuthIssue {
  const policies = [...r.token_policies];
  if (!r.token_no_default_policy && !policies.includes('default')) policies.push('default');
  const issue: AuthIssue = {
    policies,
    displayName: loginDisplayName(login.mountPoint, login.name),
    ttlSeconds: r.token_ttl || r.token_max_ttl,
    explicitMaxTtlSeconds: hardCap(r),
    numUses: r.token_num_uses,
    // The core decides the type (and so renewability) with the mount's token_type.
    tokenType: r.token_type,
    metadata: login.metadata,
    orphan: true,
  };
  if (r.token_period) issue.periodSeconds = r.token_period;
  if (r.token_bound_cidrs.length) issue.boundCidrs = r.token_bound_cidrs;
  if (login.alias) issue.alias = login.alias;
  return issue;
}
