/**
 * `identity/mfa/*` routes (Vault's shapes): TOTP methods, enrollment per entity (`generate` for the
 * caller's own entity, `admin-generate` / `admin-destroy` for an administrator), login enforcements.
 * Enrollment answers the otpauth:// URL, a QR PNG (base64 `barcode`) and recovery codes, once.
 */
import { z } from 'zod';
import { toBuffer } from 'qrcode';
import { ArcaError } from '../errors/index.ts';
import { type EngineRequest, type EngineResponse, type EngineRouter, parseFields, vStringList, withIgnoredFields } from '../engines/index.ts';
import type { MfaStore } from './store.ts';
import { hashRecoveryCode, newRecoveryCodes, newSecret, otpauthUrl } from './totp.ts';

const NAME = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, ".", "_" or "-"');
/** Built once: a zod v4 schema compiles its fast path on first use (~40 µs per schema built). */
const NameField = z.object({ name: NAME });
const MethodFields = z.object({ method_name: z.string().max(128).optional(), issuer: z.string().min(1).max(128).optional() });
const GenerateFields = z.object({ method_id: z.string().min(1).max(64), entity_id: z.string().min(1).max(64).optional() });
const EnforcementFields = z.object({
  mfa_method_ids: vStringList.refine((l) => l.length > 0 && l.length <= 16, 'give 1 to 16 method ids'),
  auth_method_accessors: vStringList.optional(), auth_method_types: vStringList.optional(),
  identity_group_ids: vStringList.optional(), identity_entity_ids: vStringList.optional(),
});

export interface MfaRouteDeps {
  store: MfaStore;
  entityExists: (id: string) => Promise<{ name: string } | undefined>;
}

export function registerMfaRoutes(router: EngineRouter, d: MfaRouteDeps): void {
  const s = d.store;
  const enroll = async (methodId: string, entityId: string) => {
    const m = await s.totpMethod(methodId);
    if (!m) throw new ArcaError('ERR_INVALID_REQUEST', 'method_id must name an existing TOTP method', { details: { field: 'method_id' } });
    const ent = await d.entityExists(entityId);
    if (!ent) throw new ArcaError('ERR_INVALID_REQUEST', 'entity_id must name an existing entity', { details: { field: 'entity_id' } });
    const secret = newSecret();
    const recovery = newRecoveryCodes();
    await s.enroll(methodId, entityId, { secret, lastStep: 0, recovery: recovery.map(hashRecoveryCode) });
    const url = otpauthUrl(secret, m.issuer, ent.name);
    const barcode = (await toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2 })).toString('base64');
    return { data: { url, barcode, recovery_codes: recovery } };
  };
  const writeMethod = async (id: string | undefined, r: EngineRequest) => {
    const f = parseFields(MethodFields, r.data);
    const m = await s.saveMethod(id, { name: f.method_name, issuer: f.issuer });
    // Vault's TOTP options this subset does not apply (period, digits, algorithm, …) are named, not dropped.
    return withIgnoredFields<EngineResponse>({ data: { method_id: m.id } }, MethodFields, r.data);
  };
  router
    // Every method of both types (Vault's type-agnostic list), with its type and name.
    .add('mfa/method/', {
      list: async () => {
        const keys = (await s.methodIds()).sort();
        const key_info: Record<string, unknown> = {};
        for (const id of keys) {
          const m = await s.method(id);
          if (m) key_info[id] = { type: m.type, method_name: m.name };
        }
        return { data: { keys, key_info } };
      },
    })
    .add('mfa/method/totp/', { list: async () => ({ data: { keys: (await s.methodIds('totp')).sort() } }) })
    .add('mfa/method/totp', { update: (r) => writeMethod(undefined, r) })
    .add('mfa/method/totp/generate', {
      update: async (r) => {
        const f = parseFields(GenerateFields, r.data);
        const self = r.auth?.entityId;
        if (!self) throw new ArcaError('ERR_INVALID_REQUEST', 'this token has no entity: log in through an auth method, or use admin-generate');
        return enroll(f.method_id, self);
      },
    })
    .add('mfa/method/totp/admin-generate', {
      update: async (r) => {
        const f = parseFields(GenerateFields, r.data);
        if (!f.entity_id) throw new ArcaError('ERR_INVALID_REQUEST', 'missing entity_id', { details: { field: 'entity_id' } });
        return enroll(f.method_id, f.entity_id);
      },
    })
    .add('mfa/method/totp/admin-destroy', {
      update: async (r) => {
        const f = parseFields(GenerateFields, r.data);
        if (!f.entity_id) throw new ArcaError('ERR_INVALID_REQUEST', 'missing entity_id', { details: { field: 'entity_id' } });
        await s.unenroll(f.method_id, f.entity_id);
        return undefined;
      },
    })
    .add('mfa/method/totp/:id', {
      read: async (_r, p) => {
        const m = await s.totpMethod(p['id']!);
        if (!m) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: { id: m.id, type: m.type, method_name: m.name, issuer: m.issuer, algorithm: 'SHA1', digits: 6, period: 30, skew: 1, key_size: 20 } };
      },
      update: (r, p) => writeMethod(p['id'], r),
      delete: async (_r, p) => {
        await s.deleteMethod(p['id']!, 'totp');
        return undefined;
      },
    })
    .add('mfa/login-enforcement/', { list: async () => ({ data: { keys: (await s.enforcementNames()).sort() } }) })
    .add('mfa/login-enforcement/:name', {
      read: async (_r, p) => {
        const e = await s.enforcement(p['name']!);
        if (!e) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: { ...e } };
      },
      update: async (r, p) => {
        const name = parseFields(NameField, { name: p['name'] }).name;
        const f = parseFields(EnforcementFields, r.data);
        const e = {
          name, mfa_method_ids: f.mfa_method_ids, auth_method_accessors: f.auth_method_accessors ?? [], auth_method_types: f.auth_method_types ?? [],
          identity_group_ids: f.identity_group_ids ?? [], identity_entity_ids: f.identity_entity_ids ?? [],
        };
        if (!e.auth_method_accessors.length && !e.auth_method_types.length && !e.identity_group_ids.length && !e.identity_entity_ids.length) {
          throw new ArcaError('ERR_INVALID_REQUEST', 'name at least one of auth_method_accessors, auth_method_types, identity_group_ids, identity_entity_ids');
        }
        await s.saveEnforcement(e);
        return undefined;
      },
      delete: async (_r, p) => {
        await s.deleteEnforcement(p['name']!);
        return undefined;
      },
    });
}
