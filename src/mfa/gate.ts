/**
 * Login MFA: when a login enforcement covers the auth mount (accessor or type), the entity or one of
 * its groups, the core gets an `auth` block with Vault's `mfa_requirement` instead of a token; the
 * token is created by `sys/mfa/validate` once every enforcement is satisfied by one of its methods.
 * Pending logins live in memory on the replica that answered the login (they expire after
 * PENDING_TTL_MS and allow MAX_ATTEMPTS failed validations, then the login must start over).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { type EngineRouter, parseFields } from '../engines/index.ts';
import type { Enforcement, MfaStore } from './store.ts';

export const PENDING_TTL_MS = 5 * 60_000;
export const MAX_ATTEMPTS = 5;
const MAX_PENDING = 10_000;

interface Pending<T> {
  entityId: string;
  create: T;
  constraints: { name: string; methodIds: string[] }[];
  expiresAt: number;
  attempts: number;
}

export interface GateDeps<T> {
  store: MfaStore;
  now: () => number;
  groupIdsOf: (entityId: string) => Promise<string[]>;
  /** Issues the token held back by the login; answers Vault's `auth` block. */
  issue: (create: T) => Promise<Record<string, unknown>>;
}

const ValidateFields = z.object({
  mfa_request_id: z.string().min(1).max(64),
  mfa_payload: z.record(z.string().max(64), z.array(z.string().max(64)).max(4)).refine((m) => Object.keys(m).length <= 16, 'at most 16 methods'),
});

const refused = () => new ArcaError('ERR_MFA_INVALID', 'MFA validation failed: the request id, method or passcode was not accepted');

export class MfaGate<T> {
  readonly #d: GateDeps<T>;
  readonly #pending = new Map<string, Pending<T>>();

  constructor(d: GateDeps<T>) {
    this.#d = d;
  }

  #covers(e: Enforcement, mount: { accessor: string; type: string }, entityId: string, groups: string[]): boolean {
    return e.auth_method_accessors.includes(mount.accessor) || e.auth_method_types.includes(mount.type)
      || e.identity_entity_ids.includes(entityId) || e.identity_group_ids.some((g) => groups.includes(g));
  }

  /** Called by the core at login (IdentityHooks.loginGate). */
  async gate(mount: { accessor: string; type: string }, entityId: string, create: T): Promise<Record<string, unknown> | undefined> {
    const all = await this.#d.store.enforcements();
    if (all.length === 0) return undefined;
    // Groups cost a storage read: only when an enforcement not matched otherwise names groups.
    const needGroups = all.some((e) => e.identity_group_ids.length > 0 && !this.#covers(e, mount, entityId, []));
    const groups = needGroups ? await this.#d.groupIdsOf(entityId) : [];
    const hits = all.filter((e) => this.#covers(e, mount, entityId, groups));
    if (hits.length === 0) return undefined;
    this.#sweep();
    const id = randomUUID();
    const constraints = hits.map((e) => ({ name: e.name, methodIds: e.mfa_method_ids }));
    this.#pending.set(id, { entityId, create, constraints, expiresAt: this.#d.now() + PENDING_TTL_MS, attempts: 0 });
    const mfa_constraints: Record<string, unknown> = {};
    for (const c of constraints) mfa_constraints[c.name] = { any: c.methodIds.map((m) => ({ type: 'totp', id: m, uses_passcode: true, name: '' })) };
    return { client_token: '', accessor: '', policies: null, token_policies: null, metadata: null, lease_duration: 0, renewable: false, entity_id: '', mfa_requirement: { mfa_request_id: id, mfa_constraints } };
  }

  #sweep(): void {
    const now = this.#d.now();
    for (const [k, p] of this.#pending) if (p.expiresAt <= now) this.#pending.delete(k);
    if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
  }

  async validate(data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const f = parseFields(ValidateFields, data);
    const p = this.#pending.get(f.mfa_request_id);
    if (!p || p.expiresAt <= this.#d.now()) {
      this.#pending.delete(f.mfa_request_id);
      throw refused();
    }
    for (const c of p.constraints) {
      let ok = false;
      for (const m of c.methodIds) {
        const code = f.mfa_payload[m]?.[0];
        if (code !== undefined && (await this.#d.store.method(m)) && (await this.#d.store.spend(m, p.entityId, code, this.#d.now()))) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        if (++p.attempts >= MAX_ATTEMPTS) this.#pending.delete(f.mfa_request_id);
        throw refused();
      }
    }
    // Single use: the held-back login is issued once.
    this.#pending.delete(f.mfa_request_id);
    return this.#d.issue(p.create);
  }

  /** `sys/mfa/validate` (a system route; unauthenticated, as the caller has no token yet). */
  register(router: EngineRouter): void {
    router.add('mfa/validate', { update: async (r) => ({ auth: await this.validate(r.data) }) });
  }
}
