/**
 * Login MFA state inside the barrier under `sys/mfa/` (so TOTP secrets are never stored in plaintext):
 *   method/<id>                  MfaMethod JSON (TOTP or WebAuthn)
 *   secret/<method id>/<entity>  TOTP: Enrollment JSON (base32 secret, last used step, recovery code hashes);
 *                                WebAuthn: WebauthnEnrollment JSON (the entity's credentials, public keys, counters)
 *   enforcement/<name>           Enforcement JSON (which logins need which methods)
 * Writes that spend a code (last step, recovery code) or move a signature counter are compare-and-set,
 * so a code or an assertion works once even across replicas sharing the storage.
 */
import { randomUUID } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import type { Storage } from '../storage/index.ts';
import { codeStep, findRecoveryCode } from './totp.ts';

export interface TotpMethod {
  id: string;
  type: 'totp';
  name: string;
  issuer: string;
}

export type UserVerification = 'required' | 'preferred' | 'discouraged';

export interface WebauthnMethod {
  id: string;
  type: 'webauthn';
  name: string;
  rp_id: string;
  rp_name: string;
  origins: string[];
  user_verification: UserVerification;
}

export type MfaMethod = TotpMethod | WebauthnMethod;

/** One registered authenticator; `id` and `public_key` are base64url (the public key is COSE). */
export interface WebauthnCredential {
  id: string;
  public_key: string;
  counter: number;
  transports: string[];
  label: string;
  created: string;
}

export interface WebauthnEnrollment {
  type: 'webauthn';
  credentials: WebauthnCredential[];
}

/** Security keys per entity and method: enough for a spare or two, bounded so a record stays small. */
export const MAX_WEBAUTHN_CREDENTIALS = 16;

export interface Enrollment {
  secret: string;
  lastStep: number;
  recovery: string[];
}

export interface Enforcement {
  name: string;
  mfa_method_ids: string[];
  auth_method_accessors: string[];
  auth_method_types: string[];
  identity_group_ids: string[];
  identity_entity_ids: string[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Login enforcements are read on every login (which may not need MFA at all), and listing a prefix
 * costs a storage scan: they are kept in memory for this long, and dropped at once by local writes.
 * Another replica's change is seen within this bound (the same as identity policies, docs/governance.md).
 */
const ENFORCEMENT_CACHE_MS = 5000;

export class MfaStore {
  readonly #s: () => Storage;
  #enforcementCache: { at: number; list: readonly Enforcement[] } | undefined;

  constructor(storage: () => Storage) {
    this.#s = storage;
  }

  async #get<T>(k: string): Promise<{ raw: Uint8Array; v: T } | undefined> {
    const raw = await this.#s().get(k);
    return raw ? { raw, v: JSON.parse(dec.decode(raw)) as T } : undefined;
  }

  #put(k: string, v: unknown): Promise<void> {
    return this.#s().put(k, enc.encode(JSON.stringify(v)));
  }

  async method(id: string): Promise<MfaMethod | undefined> {
    return (await this.#get<MfaMethod>(`method/${id}`))?.v;
  }

  async totpMethod(id: string): Promise<TotpMethod | undefined> {
    const m = await this.method(id);
    return m?.type === 'totp' ? m : undefined;
  }

  async webauthnMethod(id: string): Promise<WebauthnMethod | undefined> {
    const m = await this.method(id);
    return m?.type === 'webauthn' ? m : undefined;
  }

  /** Method ids, of one type when given (each record is read to learn its type). */
  async methodIds(type?: MfaMethod['type']): Promise<string[]> {
    const ids = await this.#s().list('method/');
    if (!type) return ids;
    const out: string[] = [];
    for (const id of ids) if ((await this.method(id))?.type === type) out.push(id);
    return out;
  }

  async saveMethod(id: string | undefined, f: { name?: string | undefined; issuer?: string | undefined }): Promise<TotpMethod> {
    const cur = id ? await this.totpMethod(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no TOTP method with this id');
    const m: TotpMethod = { id: cur?.id ?? randomUUID(), type: 'totp', name: f.name ?? cur?.name ?? '', issuer: f.issuer ?? cur?.issuer ?? 'Arca' };
    await this.#put(`method/${m.id}`, m);
    return m;
  }

  async saveWebauthnMethod(id: string | undefined, f: Partial<Omit<WebauthnMethod, 'id' | 'type'>>): Promise<WebauthnMethod> {
    const cur = id ? await this.webauthnMethod(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no WebAuthn method with this id');
    const rp_id = f.rp_id ?? cur?.rp_id;
    const origins = f.origins ?? cur?.origins;
    if (!rp_id) throw new ArcaError('ERR_INVALID_REQUEST', 'missing rp_id', { details: { field: 'rp_id' } });
    if (!origins) throw new ArcaError('ERR_INVALID_REQUEST', 'missing origins', { details: { field: 'origins' } });
    const m: WebauthnMethod = {
      id: cur?.id ?? randomUUID(), type: 'webauthn', name: f.name ?? cur?.name ?? '', rp_id, rp_name: f.rp_name ?? cur?.rp_name ?? 'Arca',
      origins, user_verification: f.user_verification ?? cur?.user_verification ?? 'preferred',
    };
    await this.#put(`method/${m.id}`, m);
    return m;
  }

  /** Deletes a method (of `type` only, when given) with every enrollment in it. */
  async deleteMethod(id: string, type?: MfaMethod['type']): Promise<void> {
    if (type && (await this.method(id))?.type !== type) return;
    for (const e of await this.enforcements()) {
      if (e.mfa_method_ids.includes(id)) throw new ArcaError('ERR_INVALID_REQUEST', `method is used by login enforcement "${e.name}"; remove it there first`);
    }
    for (const ent of await this.#s().list(`secret/${id}/`)) await this.#s().delete(`secret/${id}/${ent}`);
    await this.#s().delete(`method/${id}`);
  }

  async enrolled(methodId: string, entityId: string): Promise<boolean> {
    return (await this.#s().get(`secret/${methodId}/${entityId}`)) !== undefined;
  }

  /** Stores a new enrollment; refuses to replace one (an admin destroys it first). */
  async enroll(methodId: string, entityId: string, e: Enrollment): Promise<void> {
    if (!(await this.#s().putIf(`secret/${methodId}/${entityId}`, enc.encode(JSON.stringify(e)), undefined))) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'this entity already has a TOTP secret for this method; an administrator must destroy it first');
    }
  }

  async unenroll(methodId: string, entityId: string): Promise<void> {
    await this.#s().delete(`secret/${methodId}/${entityId}`);
  }

  /** The entity's WebAuthn credentials for a method (none when it registered none). */
  async webauthnCredentials(methodId: string, entityId: string): Promise<WebauthnCredential[]> {
    const cur = await this.#get<WebauthnEnrollment | Enrollment>(`secret/${methodId}/${entityId}`);
    return cur && 'type' in cur.v && cur.v.type === 'webauthn' ? cur.v.credentials : [];
  }

  /** Read-modify-write of a WebAuthn enrollment, compare-and-set; `change` answers the next record or false to stop. */
  async #updateWebauthn(methodId: string, entityId: string, change: (cur: WebauthnEnrollment) => WebauthnEnrollment | false): Promise<boolean> {
    const k = `secret/${methodId}/${entityId}`;
    for (let i = 0; i < 8; i++) {
      const cur = await this.#get<WebauthnEnrollment>(k);
      if (cur && cur.v.type !== 'webauthn') return false;
      const next = change(cur?.v ?? { type: 'webauthn', credentials: [] });
      if (next === false) return false;
      if (await this.#s().putIf(k, enc.encode(JSON.stringify(next)), cur?.raw)) return true;
    }
    throw new ArcaError('ERR_STORAGE_CONFLICT', 'the enrollment is being changed concurrently; retry');
  }

  async addWebauthnCredential(methodId: string, entityId: string, c: WebauthnCredential): Promise<void> {
    let why = '';
    const ok = await this.#updateWebauthn(methodId, entityId, (cur) => {
      if (cur.credentials.some((x) => x.id === c.id)) why = 'this security key is already registered for this method';
      else if (cur.credentials.length >= MAX_WEBAUTHN_CREDENTIALS) why = `at most ${MAX_WEBAUTHN_CREDENTIALS} security keys per method: an administrator can remove them (admin-destroy)`;
      else return { ...cur, credentials: [...cur.credentials, c] };
      return false;
    });
    if (!ok) throw new ArcaError('ERR_INVALID_REQUEST', why || 'this entity has a non-WebAuthn enrollment for this method');
  }

  /**
   * Moves a credential's signature counter to `counter` after a verified assertion. False when the
   * stored counter is already there or past it (a replay, or a cloned authenticator) — unless both
   * are zero: authenticators without a counter always report 0, and the single-use challenge is then
   * the only replay guard.
   */
  async advanceWebauthnCounter(methodId: string, entityId: string, credentialId: string, counter: number): Promise<boolean> {
    return this.#updateWebauthn(methodId, entityId, (cur) => {
      const c = cur.credentials.find((x) => x.id === credentialId);
      if (!c || ((counter > 0 || c.counter > 0) && counter <= c.counter)) return false;
      return { ...cur, credentials: cur.credentials.map((x) => (x === c ? { ...x, counter } : x)) };
    });
  }

  /**
   * Spends a passcode: a TOTP code of a step after the last one used (within ±1 step of now), or an
   * unused recovery code. True when accepted; the spend is compare-and-set, so only one caller wins.
   */
  async spend(methodId: string, entityId: string, passcode: string, nowMs: number): Promise<boolean> {
    const k = `secret/${methodId}/${entityId}`;
    for (let i = 0; i < 8; i++) {
      const cur = await this.#get<Enrollment>(k);
      if (!cur) return false;
      const step = codeStep(cur.v.secret, passcode, nowMs);
      let next: Enrollment;
      if (step !== undefined) {
        if (step <= cur.v.lastStep) return false;
        next = { ...cur.v, lastStep: step };
      } else {
        const at = findRecoveryCode(cur.v.recovery, passcode);
        if (at < 0) return false;
        next = { ...cur.v, recovery: cur.v.recovery.filter((_, j) => j !== at) };
      }
      if (await this.#s().putIf(k, enc.encode(JSON.stringify(next)), cur.raw)) return true;
    }
    return false;
  }

  async enforcement(name: string): Promise<Enforcement | undefined> {
    return (await this.#get<Enforcement>(`enforcement/${name}`))?.v;
  }

  async enforcementNames(): Promise<string[]> {
    return this.#s().list('enforcement/');
  }

  async enforcements(): Promise<readonly Enforcement[]> {
    const now = Date.now();
    const c = this.#enforcementCache;
    if (c && now - c.at < ENFORCEMENT_CACHE_MS) return c.list;
    const out: Enforcement[] = [];
    for (const n of await this.enforcementNames()) {
      const e = await this.enforcement(n);
      if (e) out.push(e);
    }
    this.#enforcementCache = { at: now, list: out };
    return out;
  }

  /** Forgets the cached enforcements (local writes, keyring reload or HA takeover). */
  invalidate(): void {
    this.#enforcementCache = undefined;
  }

  async saveEnforcement(e: Enforcement): Promise<void> {
    for (const id of e.mfa_method_ids) if (!(await this.method(id))) throw new ArcaError('ERR_INVALID_REQUEST', 'mfa_method_ids must name existing MFA methods', { details: { field: 'mfa_method_ids' } });
    await this.#put(`enforcement/${e.name}`, e);
    this.invalidate();
  }

  async deleteEnforcement(name: string): Promise<void> {
    await this.#s().delete(`enforcement/${name}`);
    this.invalidate();
  }
}
