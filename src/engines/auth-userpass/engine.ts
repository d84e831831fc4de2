/**
 * The `userpass` auth method (Vault's shapes): `users/:name` (CRUD + LIST), `users/:name/password`,
 * `users/:name/policies`, and `login/:name`. Storage (this mount's barrier view): `user/<name>` →
 * UserRecord JSON with the scrypt hash (password.ts), never the password.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { ignoredFieldsResponse, parseFields } from '../fields.ts';
import { EngineRouter } from '../router.ts';
import { checkLoginFrom, mergeTokenFields, storedTokenFields, TOKEN_FIELDS_DEFAULTS, type TokenFields, tokenFieldsData, tokenFieldsShape, tokenIssue } from '../token-fields.ts';
import type { Engine, EngineContext, EngineRequest } from '../types.ts';
import { UserLockout } from './lockout.ts';
import { hashPassword, type PasswordHash, verifyPassword } from './password.ts';

interface UserRecord extends TokenFields {
  password: PasswordHash;
}

const NAME = /^[a-z0-9][a-z0-9._@-]{0,127}$/;
const PASSWORD = z.string({ error: 'password must be a string' }).min(1, 'password must not be empty').max(1024, 'password must be at most 1024 characters');
const UserFields = z.object({ password: PASSWORD.optional(), ...tokenFieldsShape });
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
    // Users written before the other token fields existed take their defaults.
    return b ? storedTokenFields(JSON.parse(dec.decode(b)) as UserRecord) : undefined;
  };
  const save = (n: string, u: UserRecord) => s.put(`user/${n}`, enc.encode(JSON.stringify(u)));
  const write = async (r: EngineRequest, p: Record<string, string>) => {
    const n = userName(p['name']!);
    const f = parseFields(UserFields, r.data);
    const cur = await load(n);
    if (!cur && f.password === undefined) throw new ArcaError('ERR_INVALID_REQUEST', 'missing password', { details: { field: 'password' } });
    // Checked before the (deliberately slow) password hash, so a bad field costs nothing.
    const fields = mergeTokenFields(cur ?? TOKEN_FIELDS_DEFAULTS, f);
    const u: UserRecord = { ...fields, password: f.password !== undefined ? await hashPassword(f.password) : cur!.password };
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
        return { data: tokenFieldsData(u) };
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
        await save(n, { ...u, ...mergeTokenFields(u, { token_policies: f.token_policies ?? f.policies ?? [] }) });
        return undefined;
      },
    })
    .add('login/:name', {
      update: async (r, p) => {
        const n = userName(p['name']!);
        const { password } = parseFields(LoginFields, r.data);
        const u = await load(n);
        // Vault checks the user's token_bound_cidrs before the password (and before the lockout counts a try).
        if (u) checkLoginFrom(u, r.clientAddr);
        if (lockout.locked(n)) throw new ArcaError('ERR_LOGIN_LOCKED', 'too many failed logins for this user; try again later');
        if (!(await verifyPassword(password, u?.password)) || !u) {
          lockout.failed(n);
          throw loginFailed();
        }
        lockout.succeeded(n);
        return { issue: tokenIssue(u, { mountPoint: r.mountPoint, name: n, metadata: { username: n }, alias: { name: n } }) };
      },
    });
  return { type: 'userpass', sensitiveFields: ['password', 'mfa_request_id'], handle: (req) => router.dispatch(req), routes: () => router.routes() };
}
