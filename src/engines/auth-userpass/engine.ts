/**
 * The `userpass` auth method (Vault's shapes): `users/:name` (CRUD + LIST), `users/:name/password`,
 * `users/:name/policies`, and `login/:name`. Storage (this mount's barrier view): `user/<name>` →
 * UserRecord JSON with the scrypt hash (password.ts), never the password.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsResponse, parseFields, vDuration, vStringList } from '../fields.ts';
import { EngineRouter } from '../router.ts';
import type { Engine, EngineContext, EngineRequest } from '../types.ts';
import { UserLockout } from './lockout.ts';
import { hashPassword, type PasswordHash, verifyPassword } from './password.ts';

interface UserRecord {
  password: PasswordHash;
  token_policies: string[];
  token_ttl: number;
  token_max_ttl: number;
}

/** Ten years, as the kubernetes auth method's token_ttl bound. */
const MAX_DURATION_SECONDS = 10 * 365 * 86400;
const NAME = /^[a-z0-9][a-z0-9._@-]{0,127}$/;
const PASSWORD = z.string({ error: 'password must be a string' }).min(1, 'password must not be empty').max(1024, 'password must be at most 1024 characters');
const duration = (f: string) => vDuration.refine((n) => n <= MAX_DURATION_SECONDS, `${f} must be between 0 and ${MAX_DURATION_SECONDS} seconds`);
const policies = vStringList.refine((l) => !l.includes('root'), 'auth methods cannot create root tokens: remove "root"').refine((l) => l.length <= 64, 'at most 64 policies');
const UserFields = z.object({
  password: PASSWORD.optional(),
  token_policies: policies.optional(), policies: policies.optional(),
  token_ttl: duration('token_ttl').optional(), ttl: duration('ttl').optional(),
  token_max_ttl: duration('token_max_ttl').optional(), max_ttl: duration('max_ttl').optional(),
});
const LoginFields = z.object({ password: PASSWORD });
/** `users/:name/policies`; built once, as every schema here (zod v4 compiles each on first use). */
const PolicyFields = UserFields.pick({ token_policies: true, policies: true });

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Vault lower-cases user names; anything else is refused before storage is touched. */
function userName(raw: string): string {
  const n = raw.toLowerCase();
  if (!NAME.test(n)) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid user name: use 1–128 letters, digits, ".", "_", "@" or "-", starting with a letter or digit', { details: { field: 'username' } });
  return n;
}

const loginFailed = () => new ArcaError('ERR_LOGIN_FAILED', 'invalid username or password');

export function createUserpassAuthEngine(ctx: EngineContext): Engine {
  const s = ctx.storage;
  const lockout = new UserLockout(ctx.now);
  const load = async (n: string): Promise<UserRecord | undefined> => {
    const b = await s.get(`user/${n}`);
    return b ? (JSON.parse(dec.decode(b)) as UserRecord) : undefined;
  };
  const save = (n: string, u: UserRecord) => s.put(`user/${n}`, enc.encode(JSON.stringify(u)));
  const write = async (r: EngineRequest, p: Record<string, string>) => {
    const n = userName(p['name']!);
    const f = parseFields(UserFields, r.data);
    const cur = await load(n);
    if (!cur && f.password === undefined) throw new ArcaError('ERR_INVALID_REQUEST', 'missing password', { details: { field: 'password' } });
    const u: UserRecord = {
      password: f.password !== undefined ? await hashPassword(f.password) : cur!.password,
      token_policies: f.token_policies ?? f.policies ?? cur?.token_policies ?? [],
      token_ttl: f.token_ttl ?? f.ttl ?? cur?.token_ttl ?? 0,
      token_max_ttl: f.token_max_ttl ?? f.max_ttl ?? cur?.token_max_ttl ?? 0,
    };
    if (u.token_max_ttl && u.token_ttl > u.token_max_ttl) throw new ArcaError('ERR_FIELD_OUT_OF_RANGE', 'token_ttl must not exceed token_max_ttl', { details: { field: 'token_ttl' } });
    await save(n, u);
    return ignoredFieldsResponse(UserFields, r.data);
  };
  const router = new EngineRouter()
    .add('users/', { list: async () => ({ data: { keys: (await s.list('user/')).sort() } }) })
    .add('users/:name', {
      update: write,
      read: async (_r, p) => {
        const u = await load(userName(p['name']!));
        if (!u) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: { token_policies: u.token_policies, policies: u.token_policies, token_ttl: u.token_ttl, token_max_ttl: u.token_max_ttl, token_type: 'default' } };
      },
      delete: async (_r, p) => {
        await s.delete(`user/${userName(p['name']!)}`);
        return undefined;
      },
    })
    .add('users/:name/password', {
      update: async (r, p) => {
        const n = userName(p['name']!);
        const u = await load(n);
        if (!u) throw new ArcaError('ERR_NOT_FOUND', 'no such user');
        await save(n, { ...u, password: await hashPassword(parseFields(LoginFields, r.data).password) });
        return undefined;
      },
    })
    .add('users/:name/policies', {
      update: async (r, p) => {
        const n = userName(p['name']!);
        const u = await load(n);
        if (!u) throw new ArcaError('ERR_NOT_FOUND', 'no such user');
        const f = parseFields(PolicyFields, r.data);
        await save(n, { ...u, token_policies: f.token_policies ?? f.policies ?? [] });
        return undefined;
      },
    })
    .add('login/:name', {
      update: async (r, p) => {
        const n = userName(p['name']!);
        const { password } = parseFields(LoginFields, r.data);
        if (lockout.locked(n)) throw new ArcaError('ERR_LOGIN_LOCKED', 'too many failed logins for this user; try again later');
        const u = await load(n);
        if (!(await verifyPassword(password, u?.password)) || !u) {
          lockout.failed(n);
          throw loginFailed();
        }
        lockout.succeeded(n);
        return {
          issue: {
            policies: [...new Set(['default', ...u.token_policies])], displayName: `userpass-${n}`, ttlSeconds: u.token_ttl, renewable: true,
            metadata: { username: n }, orphan: true, explicitMaxTtlSeconds: u.token_max_ttl, alias: { name: n },
          },
        };
      },
    });
  return { type: 'userpass', sensitiveFields: ['password', 'mfa_request_id'], handle: (req) => router.dispatch(req), routes: () => router.routes() };
}
