/**
 * `auth/token/` — Vault's token auth method: create (and create-orphan), lookup, renew, revoke,
 * accessors. Token values cross this engine only on the way out (create, lookup, renew) and in
 * (lookup/renew/revoke bodies); the audit log HMACs them (`sensitiveFields`).
 */
import { z } from 'zod';
import { ArcaError, toArcaError } from '../../errors/index.ts';
import { type Engine, EngineRouter, type EngineRequest, ignoredFieldsResponse, ignoredFieldsWarning, parseFields, vBool, vStringList, withoutNulls } from '../../engines/index.ts';
import { smallerSet } from '../../engines/token-fields.ts';
import { StorageView } from '../../storage/index.ts';
import { parseDuration } from '../../units/index.ts';
import { authBlock, clientTokenOf, type Core } from '../core.ts';
import { MAX_DURATION_SECONDS, MAX_NUM_USES } from '../token-ttl.ts';
import { BATCH_MAX_CHARS } from '../batch-tokens.ts';
import { loginTokenIsBatch, mountTtls } from '../login-token.ts';
import type { TokenEntry } from '../tokens.ts';
import { resolveRolePolicies, RoleFields, roleData, roleTokenType, sanitizePolicies, type TokenRole, TokenRoles } from './token-roles.ts';

/** A duration field with its allowed range in the message (never the value sent). */
const duration = z.union([z.number(), z.string().max(64)]).transform((v, ctx) => {
  let n: number | undefined;
  try {
    n = parseDuration(v, { max: MAX_DURATION_SECONDS });
  } catch {
    n = undefined;
  }
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration from 0 to ${MAX_DURATION_SECONDS} seconds, as seconds or like "1h30m"; longer than the system max TTL (768h) is capped` });
    return z.NEVER;
  }
  return n;
});

const numUses = z.union([z.number(), z.string().max(32)]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? 0 : Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_NUM_USES) {
    ctx.addIssue({ code: 'custom', message: `${n < 0 ? 'number of uses cannot be negative; ' : ''}must be an integer from 0 (unlimited) to ${MAX_NUM_USES}` });
    return z.NEVER;
  }
  return n;
});

const CreateFields = z.object({
  policies: vStringList.optional(),
  ttl: duration.optional(),
  explicit_max_ttl: duration.optional(),
  period: duration.optional(),
  renewable: vBool.optional(),
  no_parent: vBool.optional(),
  no_default_policy: vBool.optional(),
  num_uses: numUses.optional(),
  display_name: z.string().max(256).optional(),
  meta: z.record(z.string(), z.string()).optional(),
  // Vault's deprecated name for ttl.
  lease: duration.optional(),
  // Go's api.TokenCreateRequest always sends these two, empty when unset: empty means "not asked".
  type: z.enum(['', 'service', 'default', 'batch'], 'type must be service or batch (or empty)').optional(),
  entity_alias: z.string().max(1024).optional(),
  // Accepted to be refused with a clear message when set (see unsupported below).
  id: z.string().max(1024).optional(),
  role_name: z.string().max(1024).optional(),
});

/** Vault token-create options Arca does not offer: a 400 saying so, never a token without them. */
function refuseUnsupported(f: z.output<typeof CreateFields>): void {
  if (f.entity_alias) throw new ArcaError('ERR_INVALID_REQUEST', 'entity_alias is not supported: a token acts for an identity entity when an auth method login issues it', { details: { field: 'entity_alias' } });
  if (f.id) throw new ArcaError('ERR_INVALID_REQUEST', 'custom token IDs are not supported: Arca generates every token value', { details: { field: 'id' } });
  // A role applies only through its path, where the ACL says who may use it (as Vault's create/:role_name).
  if (f.role_name) throw new ArcaError('ERR_INVALID_REQUEST', 'role_name is taken from the path: create through a token role with auth/token/create/<role_name>', { details: { field: 'role_name' } });
}
const RenewFields = z.object({ increment: duration.optional() });
// Built once (a zod v4 schema built per request costs ~40 µs to compile on first use).
const TokenField = z.object({ token: z.string({ message: 'missing token ID' }).min(1, 'missing token ID').max(BATCH_MAX_CHARS) });
const AccessorField = z.object({ accessor: z.string().min(1, 'missing accessor') });

/** Vault's policy normalisation: trimmed, lower-case, unique, sorted; `root` stands alone. */
function iso(sec: number): string {
  return new Date(sec * 1000).toISOString();
}

function lookupData(e: TokenEntry, nowSec: number, id: string): Record<string, unknown> {
  const d: Record<string, unknown> = {
    accessor: e.accessor,
    creation_time: e.createdAt,
    creation_ttl: e.ttl,
    display_name: e.displayName,
    entity_id: e.entityId ?? '',
    expire_time: e.expireAt ? iso(e.expireAt) : null,
    explicit_max_ttl: e.explicitMaxTtl,
    id,
    issue_time: iso(e.createdAt),
    meta: Object.keys(e.meta).length ? e.meta : null,
    num_uses: e.numUses,
    orphan: e.orphan,
    path: e.path,
    policies: e.policies,
    renewable: e.renewable,
    ttl: e.expireAt ? Math.max(0, e.expireAt - nowSec) : 0,
    type: e.type ?? 'service',
  };
  if (e.period > 0) d['period'] = e.period;
  if (e.boundCidrs) d['bound_cidrs'] = e.boundCidrs;
  return d;
}

/**
 * A role's token_type over the create's `type`: the same rule as an auth mount's over a role's
 * (login-token.ts), except that asking for the other type than a forced one is a 400, not overruled.
 */
function roleIssuesBatch(role: TokenRole, asked: string | undefined): boolean {
  const t = roleTokenType(role.token_type);
  if ((t === 'service' || t === 'batch') && (asked === 'service' || asked === 'batch') && asked !== t) {
    throw new ArcaError('ERR_INVALID_REQUEST', `this role issues ${t} tokens: omit type or set it to ${t}`, { details: { field: 'type' } });
  }
  return loginTokenIsBatch(t, asked === 'service' || asked === 'batch' ? asked : 'default');
}

const cappedWarning = (field: string) => [`${field} exceeded the effective max_ttl; TTL value is capped accordingly`];

export function createTokenEngine(core: Core): Engine {
  const nowSec = () => Math.floor(Date.now() / 1000);
  /** The dispatched request → the caller's token (see clientTokenOf). */
  const callerToken = new WeakMap<EngineRequest, string>();
  const self = async (req: EngineRequest): Promise<TokenEntry> => {
    // The caller's own entry, even when this request spent its last use; a batch token (no
    // accessor, no uses) is its own entry.
    const batch = req.auth && !req.auth.accessor ? callerToken.get(req) : undefined;
    const e = batch ? await core.tokens.lookup(batch) : req.auth ? await core.tokens.lookupAccessor(req.auth.accessor, true) : undefined;
    if (!e) throw new ArcaError('ERR_TOKEN_INVALID', 'permission denied');
    return e;
  };
  const tokenField = (req: EngineRequest): string => parseFields(TokenField, req.data).token;
  const byAccessor = async (req: EngineRequest): Promise<TokenEntry> => {
    const { accessor } = parseFields(AccessorField, req.data);
    const e = await core.tokens.lookupAccessor(accessor);
    if (!e) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid accessor');
    return e;
  };
  const hasSudo = async (e: TokenEntry, req: EngineRequest) =>
    e.policies.includes('root') || (await core.authorizerFor(e.policies)).capabilities(`${req.mountPoint}${req.path}`).has('sudo');

  const create = (orphan: boolean) => async (req: EngineRequest, params: { role_name?: string } = {}) => {
    const f = parseFields(CreateFields, req.data);
    refuseUnsupported(f);
    const parent = await self(req);
    const isRoot = parent.policies.includes('root');
    const roleName = params.role_name;
    const role = roleName === undefined ? undefined : await roles.get(roleName);
    if (roleName !== undefined && !role) throw new ArcaError('ERR_INVALID_REQUEST', 'unknown role: no token role has that name (LIST auth/token/roles shows them)', { details: { field: 'role_name' } });
    if (f.no_parent && !(await hasSudo(parent, req))) throw new ArcaError('ERR_INVALID_REQUEST', 'root or sudo privileges required to create orphan token');
    if (f.period && !(await hasSudo(parent, req))) throw new ArcaError('ERR_INVALID_REQUEST', 'root or sudo privileges required to create periodic token');
    let policies: string[];
    if (role) policies = resolveRolePolicies(role, f.policies ?? [], { policies: parent.policies, root: isRoot }, f.no_default_policy === true);
    else {
      policies = sanitizePolicies(f.policies ?? parent.policies);
      if (!isRoot && policies.some((p) => p !== 'default' && !parent.policies.includes(p))) {
        throw new ArcaError('ERR_INVALID_REQUEST', 'child policies must be subset of parent');
      }
      const addDefault = !f.no_default_policy && !policies.includes('root') && (isRoot || parent.policies.includes('default'));
      if (addDefault && !policies.includes('default')) policies = [...policies, 'default'].sort();
    }
    const batch = role ? roleIssuesBatch(role, f.type) : f.type === 'batch';
    // A role's caps and counts apply with the request's: the smaller one set wins (0 = none).
    const explicitMaxTtl = smallerSet(f.explicit_max_ttl ?? 0, role?.token_explicit_max_ttl ?? 0);
    // Vault refuses a non-zero explicit_max_ttl on a batch create (num_uses and period: TokenStore).
    if (batch && explicitMaxTtl) throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot have "explicit_max_ttl" set', { details: { field: 'explicit_max_ttl' } });
    // The token store's own mount settings (sys/auth/token/tune), as Vault applies them.
    const ttls = mountTtls({ ttl: f.ttl ?? f.lease ?? 0, explicitMaxTtl, period: role?.token_period || f.period || 0, root: policies.includes('root') }, core.mounts.all.find((m) => m.path === req.mountPoint)?.config);
    const path = role ? `auth/token/create/${roleName}${role.path_suffix ? `/${role.path_suffix}` : ''}` : orphan ? 'auth/token/create-orphan' : 'auth/token/create';
    const { token, entry, capped } = await core.tokens.create({
      policies, parent, noParent: orphan || f.no_parent === true || role?.orphan === true, batch,
      ttl: ttls.ttl, explicitMaxTtl: ttls.explicitMaxTtl, period: ttls.period,
      renewable: !batch && (f.renewable ?? true) && (role?.renewable ?? true), numUses: smallerSet(f.num_uses ?? 0, role?.token_num_uses ?? 0),
      displayName: f.display_name ? `token-${f.display_name}` : 'token', meta: f.meta ?? {}, path,
      ...(role?.token_bound_cidrs.length ? { boundCidrs: role.token_bound_cidrs } : {}),
    });
    const warnings = [...ignoredFieldsWarning(CreateFields, req.data), ...(capped ? cappedWarning('TTL') : [])];
    return { data: null, auth: authBlock(token, entry), ...(warnings.length ? { warnings } : {}) };
  };

  const renew = async (e: TokenEntry, token: string, req: EngineRequest) => {
    const { increment } = parseFields(RenewFields, req.data);
    const r = await core.tokens.renew(e, increment);
    return { data: null, auth: authBlock(token, r.entry), ...(r.capped ? { warnings: cappedWarning('TTL') } : {}) };
  };

  const lookup = async (r: EngineRequest) => {
    const token = tokenField(r);
    const e = await core.tokens.lookup(token);
    // Vault's answer for an unknown, expired or revoked token, whichever it is.
    if (!e) throw new ArcaError('ERR_PERMISSION_DENIED', 'bad token');
    return { data: lookupData(e, nowSec(), token) };
  };

  const roles = new TokenRoles(() => new StorageView(core.barrier, 'sys/token-roles/'));
  const createChild = create(false);
  const router = new EngineRouter()
    .add('create', { update: createChild })
    .add('create/:role_name', { update: (r, p) => createChild(r, { role_name: p.role_name! }) })
    .add('roles', { list: async () => ({ data: { keys: await roles.list() } }) })
    .add('roles/:role_name', {
      read: async (_r, p) => {
        const role = await roles.get(p.role_name!);
        if (!role) throw new ArcaError('ERR_NOT_FOUND', `no token role named ${p.role_name}`);
        return { data: roleData(p.role_name!, role) };
      },
      update: async (r, p) => {
        await roles.write(p.role_name!, r.data);
        return ignoredFieldsResponse(RoleFields, r.data);
      },
      delete: async (_r, p) => void (await roles.delete(p.role_name!)),
    })
    .add('create-orphan', { update: create(true) })
    .add('lookup-self', { read: async (r) => ({ data: lookupData(await self(r), nowSec(), callerToken.get(r) ?? '') }) })
    .add('lookup', { update: lookup, read: lookup })
    .add('lookup-accessor', { update: async (r) => ({ data: lookupData(await byAccessor(r), nowSec(), '') }) })
    .add('renew-self', { update: async (r) => renew(await self(r), callerToken.get(r) ?? '', r) })
    .add('renew', {
      update: async (r) => {
        const token = tokenField(r);
        const e = await core.tokens.lookup(token);
        if (!e) throw new ArcaError('ERR_INVALID_REQUEST', 'token not found');
        return renew(e, token, r);
      },
    })
    .add('revoke-self', { update: async (r) => void (await core.tokens.revoke(await self(r))) })
    .add('revoke', {
      update: async (r) => {
        // Unknown (or already revoked) tokens are a success, as in Vault: revocation is idempotent.
        const e = await core.tokens.lookup(tokenField(r));
        if (e) await core.tokens.revoke(e);
        return undefined;
      },
    })
    .add('revoke-accessor', { update: async (r) => void (await core.tokens.revoke(await byAccessor(r))) })
    .add('revoke-orphan', {
      update: async (r) => {
        const e = await core.tokens.lookup(tokenField(r));
        if (!e) throw new ArcaError('ERR_INVALID_REQUEST', 'token not found');
        await core.tokens.revokeOrphan(e);
        return undefined;
      },
    })
    .add('accessors', { list: async () => ({ data: { keys: await core.tokens.accessors() } }) })
    // Vault's maintenance endpoint: starts the expiry sweep the active replica also runs on its own
    // (expiry-sweep.ts) and answers 202 at once; the result goes to the server log.
    .add('tidy', {
      update: async () => {
        if (core.expirySweep.running) return { status: 202, warnings: ['a tidy operation is already running'] };
        core.expirySweep.run().catch((err: unknown) => core.log.warn({ err: toArcaError(err).code }, 'token tidy failed'));
        return { status: 202, warnings: ["Tidy operation successfully started. Any information from the operation will be printed to Arca's server logs."] };
      },
    });

  return {
    type: 'token',
    // `id`: lookups answer the token in data.id; on create it is a custom token value.
    sensitiveFields: ['token', 'client_token', 'id'],
    handle: (req) => {
      const r = { ...req, path: req.path.replace(/\/$/, ''), data: withoutNulls(req.data) };
      const token = clientTokenOf(req);
      if (token !== undefined) callerToken.set(r, token);
      return router.dispatch(r);
    },
    routes: () => router.routes(),
  };
}
