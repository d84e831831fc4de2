/**
 * `identity/mfa/method/webauthn*` routes (beside Vault's TOTP ones; Vault has no WebAuthn method, the
 * shapes follow its TOTP method): method CRUD, registration of the caller's own security keys
 * (begin/finish), the caller's credential list, and `admin-destroy` of an entity's keys.
 */
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { type EngineRequest, type EngineResponse, type EngineRouter, parseFields, vStringList, withIgnoredFields } from '../engines/index.ts';
import type { MfaStore, WebauthnMethod } from './store.ts';
import type { Webauthn } from './webauthn.ts';

const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const RpId = z.string().toLowerCase().regex(HOST, 'must be a host name such as "arca.example.com" or "localhost"')
  .refine((h) => !/^[0-9.]+$/.test(h), 'must be a host name, not an IP address (browsers refuse IP addresses as RP IDs)');
const Origins = vStringList.refine((l) => l.length >= 1 && l.length <= 8, 'give 1 to 8 origins');
const MethodFields = z.object({
  method_name: z.string().max(128).optional(),
  rp_id: RpId.optional(),
  rp_name: z.string().min(1).max(128).optional(),
  origins: Origins.optional(),
  user_verification: z.enum(['required', 'preferred', 'discouraged']).optional(),
});
const MethodId = z.string().min(1).max(64);
/** Built once: a zod v4 schema compiles its fast path on first use (~40 µs per schema built). */
const MethodIdField = z.object({ method_id: MethodId });
const FinishFields = z.object({ method_id: MethodId, response: z.record(z.string(), z.unknown()), name: z.string().max(64).optional() });
const AdminFields = z.object({ method_id: MethodId, entity_id: z.string().min(1).max(64) });

/** Each origin is a bare scheme://host[:port] served under the RP ID, https unless on localhost (what browsers allow). */
function checkOrigins(rpId: string, origins: string[]): void {
  const bad = (why: string) => new ArcaError('ERR_INVALID_REQUEST', `origins: ${why}`, { details: { field: 'origins' } });
  for (const o of origins) {
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw bad('each must be a full origin such as "https://arca.example.com" or "http://localhost:8200"');
    }
    if (u.origin !== o) throw bad('each must be an origin only: scheme, host and port, no path or trailing "/"');
    const host = u.hostname.toLowerCase();
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (host === 'localhost' || host.endsWith('.localhost')))) throw bad('use https:// (http:// only for localhost)');
    if (host !== rpId && !host.endsWith(`.${rpId}`)) throw bad('each origin\'s host must be the rp_id or a subdomain of it');
  }
}

export interface WebauthnRouteDeps {
  store: MfaStore;
  webauthn: Webauthn;
  entityExists: (id: string) => Promise<{ name: string } | undefined>;
}

export function registerWebauthnRoutes(router: EngineRouter, d: WebauthnRouteDeps): void {
  const s = d.store;
  const method = async (id: string): Promise<WebauthnMethod> => {
    const m = await s.webauthnMethod(id);
    if (!m) throw new ArcaError('ERR_INVALID_REQUEST', 'method_id must name an existing WebAuthn method', { details: { field: 'method_id' } });
    return m;
  };
  const self = (r: EngineRequest): string => {
    const id = r.auth?.entityId;
    if (!id) throw new ArcaError('ERR_MFA_ENTITY_REQUIRED', 'this token has no identity entity: log in through an auth method to register a security key');
    return id;
  };
  const writeMethod = async (id: string | undefined, r: EngineRequest) => {
    const f = parseFields(MethodFields, r.data);
    const cur = id ? await s.webauthnMethod(id) : undefined;
    const rpId = f.rp_id ?? cur?.rp_id;
    const origins = f.origins ?? cur?.origins;
    if (rpId && origins) checkOrigins(rpId, origins);
    const m = await s.saveWebauthnMethod(id, {
      ...(f.method_name !== undefined ? { name: f.method_name } : {}), ...(rpId ? { rp_id: rpId } : {}), ...(origins ? { origins } : {}),
      ...(f.rp_name !== undefined ? { rp_name: f.rp_name } : {}), ...(f.user_verification ? { user_verification: f.user_verification } : {}),
    });
    return withIgnoredFields<EngineResponse>({ data: { method_id: m.id } }, MethodFields, r.data);
  };
  router
    .add('mfa/method/webauthn/', { list: async () => ({ data: { keys: (await s.methodIds('webauthn')).sort() } }) })
    .add('mfa/method/webauthn', { update: (r) => writeMethod(undefined, r) })
    .add('mfa/method/webauthn/register/begin', {
      update: async (r) => {
        const entityId = self(r);
        const m = await method(parseFields(MethodIdField, r.data).method_id);
        const ent = await d.entityExists(entityId);
        if (!ent) throw new ArcaError('ERR_MFA_ENTITY_REQUIRED', "this token's identity entity no longer exists: log in again");
        return { data: { options: await d.webauthn.beginRegistration(m, { id: entityId, name: ent.name }) } };
      },
    })
    .add('mfa/method/webauthn/register/finish', {
      update: async (r) => {
        const entityId = self(r);
        const f = parseFields(FinishFields, r.data);
        const m = await method(f.method_id);
        return { data: { credential_id: await d.webauthn.finishRegistration(m, entityId, f.response, f.name ?? '') } };
      },
    })
    .add('mfa/method/webauthn/credentials', {
      read: async (r) => {
        const entityId = self(r);
        const m = await method(parseFields(MethodIdField, r.data).method_id);
        const creds = await s.webauthnCredentials(m.id, entityId);
        return { data: { credentials: creds.map((c) => ({ id: c.id, label: c.label, created: c.created })) } };
      },
    })
    .add('mfa/method/webauthn/admin-destroy', {
      update: async (r) => {
        const f = parseFields(AdminFields, r.data);
        await s.unenroll((await method(f.method_id)).id, f.entity_id);
        return undefined;
      },
    })
    .add('mfa/method/webauthn/:id', {
      read: async (_r, p) => {
        const m = await s.webauthnMethod(p['id']!);
        if (!m) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: { id: m.id, type: m.type, method_name: m.name, rp_id: m.rp_id, rp_name: m.rp_name, origins: m.origins, user_verification: m.user_verification } };
      },
      update: (r, p) => writeMethod(p['id'], r),
      delete: async (_r, p) => {
        await s.deleteMethod(p['id']!, 'webauthn');
        return undefined;
      },
    });
}
