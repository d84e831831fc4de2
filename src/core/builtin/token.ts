/**
 * `auth/token/` — Vault's token auth method: create (and create-orphan), lookup, renew, revoke,
 * accessors. Token values cross this engine only on the way out (create) and in (lookup/revoke bodies).
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type Engine, EngineRouter, type EngineRequest, parseFields, vBool, vDuration, vInt, vStringList } from '../../engines/index.ts';
import { authBlock, type Core } from '../core.ts';
import type { TokenEntry } from '../tokens.ts';

const CreateFields = z.object({
  policies: vStringList.optional(),
  ttl: vDuration.optional(),
  explicit_max_ttl: vDuration.optional(),
  renewable: vBool.optional(),
  no_parent: vBool.optional(),
  no_default_policy: vBool.optional(),
  num_uses: vInt.optional(),
  display_name: z.string().max(256).optional(),
  meta: z.record(z.string(), z.string()).optional(),
});

function lookupData(e: TokenEntry, nowSec: number): Record<string, unknown> {
  return {
    accessor: e.accessor,
    creation_time: e.createdAt,
    creation_ttl: e.ttl,
    display_name: e.displayName,
    entity_id: '',
    expire_time: e.expireAt ? new Date(e.expireAt * 1000).toISOString() : null,
    explicit_max_ttl: e.explicitMaxTtl,
    id: '',
    issue_time: new Date(e.createdAt * 1000).toISOString(),
    meta: Object.keys(e.meta).length ? e.meta : null,
    num_uses: e.numUses,
    orphan: e.orphan,
    path: e.path,
    policies: e.policies,
    renewable: e.renewable,
    ttl: e.expireAt ? Math.max(0, e.expireAt - nowSec) : 0,
    type: 'service',
  };
}

export function createTokenEngine(core: Core): Engine {
  const nowSec = () => Math.floor(Date.now() / 1000);
  const self = async (req: EngineRequest): Promise<TokenEntry> => {
    const e = req.auth ? await core.tokens.lookupAccessor(req.auth.accessor) : undefined;
    if (!e) throw new ArcaError('ERR_TOKEN_INVALID', 'permission denied');
    return e;
  };
  const byToken = async (req: EngineRequest): Promise<TokenEntry> => {
    const { token } = parseFields(z.object({ token: z.string().min(1, 'missing token') }), req.data);
    const e = await core.tokens.lookup(token);
    if (!e) throw new ArcaError('ERR_INVALID_REQUEST', 'bad token');
    return e;
  };
  const byAccessor = async (req: EngineRequest): Promise<TokenEntry> => {
    const { accessor } = parseFields(z.object({ accessor: z.string().min(1, 'missing accessor') }), req.data);
    const e = await core.tokens.lookupAccessor(accessor);
    if (!e) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid accessor');
    return e;
  };

  const create = (orphan: boolean) => async (req: EngineRequest) => {
    const f = parseFields(CreateFields, req.data);
    const parent = await self(req);
    const isRoot = parent.policies.includes('root');
    let policies = f.policies ?? parent.policies.filter((p) => p !== 'root' || isRoot);
    if (!isRoot) {
      const notHeld = policies.filter((p) => p !== 'default' && !parent.policies.includes(p));
      if (notHeld.length) throw new ArcaError('ERR_PERMISSION_DENIED', `child policies must be subset of parent: ${notHeld.join(', ')}`);
      if ((orphan || f.no_parent) && !(await core.authorizerFor(parent.policies)).capabilities('auth/token/create-orphan').has('sudo') && f.no_parent) {
        throw new ArcaError('ERR_PERMISSION_DENIED', 'root or sudo privileges required to create orphan token');
      }
    }
    if (!f.no_default_policy && !policies.includes('root') && !policies.includes('default')) policies = [...policies, 'default'];
    const { token, entry } = await core.tokens.create({
      policies, parent, noParent: orphan || f.no_parent === true,
      ttl: f.ttl ?? (isRoot && !f.ttl ? 0 : 32 * 24 * 3600), explicitMaxTtl: f.explicit_max_ttl ?? 0,
      renewable: f.renewable ?? true, numUses: f.num_uses ?? 0,
      displayName: f.display_name ? `token-${f.display_name}` : 'token', meta: f.meta ?? {},
      path: orphan ? 'auth/token/create-orphan' : 'auth/token/create',
    });
    return { data: null, auth: authBlock(token, entry) };
  };

  const router = new EngineRouter()
    .add('create', { update: create(false) })
    .add('create-orphan', { update: create(true) })
    .add('lookup-self', { read: async (r) => ({ data: lookupData(await self(r), nowSec()) }) })
    .add('lookup', {
      update: async (r) => ({ data: lookupData(await byToken(r), nowSec()) }),
      read: async (r) => ({ data: lookupData(await byToken(r), nowSec()) }),
    })
    .add('lookup-accessor', { update: async (r) => ({ data: { ...lookupData(await byAccessor(r), nowSec()), id: '' } }) })
    .add('renew-self', {
      update: async (r) => {
        const { increment } = parseFields(z.object({ increment: vDuration.optional() }), r.data);
        const e = await core.tokens.renew(await self(r), increment);
        return { data: null, auth: { ...authBlock('', e), client_token: r.data['token'] ?? undefined } };
      },
    })
    .add('renew', {
      update: async (r) => {
        const { increment } = parseFields(z.object({ increment: vDuration.optional() }), r.data);
        const e = await core.tokens.renew(await byToken(r), increment);
        return { data: null, auth: authBlock('', e) };
      },
    })
    .add('revoke-self', { update: async (r) => void (await core.tokens.revoke(await self(r))) })
    .add('revoke', { update: async (r) => void (await core.tokens.revoke(await byToken(r))) })
    .add('revoke-accessor', { update: async (r) => void (await core.tokens.revoke(await byAccessor(r))) })
    .add('revoke-orphan', { update: async (r) => void (await core.tokens.revokeOrphan(await byToken(r))) })
    .add('accessors', { list: async () => ({ data: { keys: await core.tokens.accessors() } }) });

  return {
    type: 'token',
    sensitiveFields: ['token', 'client_token'],
    handle: (req) => router.dispatch({ ...req, path: req.path.replace(/\/$/, '') }),
    routes: () => router.routes(),
  };
}
