/**
 * Login MFA state inside the barrier under `sys/mfa/` (so TOTP secrets are never stored in plaintext):
 *   method/<id>                  TotpMethod JSON
 *   secret/<method id>/<entity>  Enrollment JSON (base32 secret, last used step, recovery code hashes)
 *   enforcement/<name>           Enforcement JSON (which logins need which methods)
 * Writes that spend a code (last step, recovery code) are compare-and-set, so a code works once even
 * across replicas sharing the storage.
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

  async method(id: string): Promise<TotpMethod | undefined> {
    return (await this.#get<TotpMethod>(`method/${id}`))?.v;
  }

  async methodIds(): Promise<string[]> {
    return this.#s().list('method/');
  }

  async saveMethod(id: string | undefined, f: { name?: string | undefined; issuer?: string | undefined }): Promise<TotpMethod> {
    const cur = id ? await this.method(id) : undefined;
    if (id && !cur) throw new ArcaError('ERR_NOT_FOUND', 'no MFA method with this id');
    const m: TotpMethod = { id: cur?.id ?? randomUUID(), type: 'totp', name: f.name ?? cur?.name ?? '', issuer: f.issuer ?? cur?.issuer ?? 'Arca' };
    await this.#put(`method/${m.id}`, m);
    return m;
  }

  async deleteMethod(id: string): Promise<void> {
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
