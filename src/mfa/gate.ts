/**
 * Login MFA: when a login enforcement covers the auth mount (accessor or type), the entity or one of
 * its groups, the core gets an `auth` block with Vault's `mfa_requirement` instead of a token; the
 * token is created by `sys/mfa/validate` once every enforcement is satisfied by one of its methods.
 * Pending logins live in memory on the replica that answered the login (they expire after
 * PENDING_TTL_MS and allow MAX_ATTEMPTS failed validations, then the login must start over).
 *
 * A WebAuthn method's entry carries request options whose challenge is kept in the pending login
 * (one per method), so an assertion is good for that login only. Step-up (`sys/mfa/step-up`, an Arca
 * extension) opens the same kind of pending request for an already logged-in token, naming every
 * method its entity is enrolled in; validating it issues a fresh token with `mfaAt` = now.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { type AuthContext, type EngineRouter, parseFields } from '../engines/index.ts';
import type { Enforcement, MfaStore } from './store.ts';
import { MAX_ASSERTION_CHARS, type Webauthn } from './webauthn.ts';

export const PENDING_TTL_MS = 5 * 60_000;
export const MAX_ATTEMPTS = 5;
const MAX_PENDING = 10_000;
/** TOTP codes are 6 digits and recovery codes 24 characters: anything longer is refused unread. */
const MAX_PASSCODE_CHARS = 64;
export const STEP_UP_CONSTRAINT = 'step-up';

interface Pending<T> {
  entityId: string;
  /** The login's held-back token; absent for a step-up, whose token is built at validation. */
  create?: T;
  /** Step-up: the accessor of the token that asked (the new token copies it, as its child). */
  stepUpAccessor?: string;
  constraints: { name: string; methodIds: string[] }[];
  /** WebAuthn method id → the challenge of the options answered with this request. */
  challenges: Record<string, string>;
  expiresAt: number;
  attempts: number;
  /** A validation is running: a concurrent one is refused, so one request never yields two tokens. */
  busy: boolean;
}

export interface GateDeps<T> {
  store: MfaStore;
  webauthn: Webauthn;
  now: () => number;
  groupIdsOf: (entityId: string) => Promise<string[]>;
  /** Issues the token held back by the login; answers Vault's `auth` block. */
  issue: (create: T) => Promise<Record<string, unknown>>;
  /**
   * The token a step-up of the token `accessor` yields (same entity, policies, metadata, display
   * name, at most its remaining TTL). Throws a coded error when that token cannot step up (gone,
   * limited-use, root).
   */
  stepUp: (accessor: string) => Promise<T>;
}

const ValidateFields = z.object({
  mfa_request_id: z.string().min(1).max(64),
  mfa_payload: z.record(z.string().max(64), z.array(z.string().max(MAX_ASSERTION_CHARS)).max(4)).refine((m) => Object.keys(m).length <= 16, 'at most 16 methods'),
});

const refused = () => new ArcaError('ERR_MFA_INVALID', 'MFA validation failed: the request id, method or passcode was not accepted');
const notEnrolled = () =>
  new ArcaError('ERR_MFA_NOT_ENROLLED', 'this entity is enrolled in none of the MFA methods required here: enroll a TOTP secret or register a security key first (or ask an administrator)');

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
    return this.#open(entityId, hits.map((e) => ({ name: e.name, methodIds: e.mfa_method_ids })), { create });
  }

  /** Stores a pending request and answers the `auth` block carrying its `mfa_requirement`. */
  async #open(entityId: string, constraints: Pending<T>['constraints'], what: Pick<Pending<T>, 'create' | 'stepUpAccessor'>): Promise<Record<string, unknown>> {
    const challenges: Record<string, string> = {};
    const entries = new Map<string, Record<string, unknown>>();
    const mfa_constraints: Record<string, unknown> = {};
    for (const c of constraints) {
      const any = [];
      for (const id of c.methodIds) {
        let entry = entries.get(id);
        if (!entry) {
          entry = await this.#entry(id, entityId, challenges);
          entries.set(id, entry);
        }
        any.push(entry);
      }
      mfa_constraints[c.name] = { any };
    }
    this.#sweep();
    const id = randomUUID();
    this.#pending.set(id, { entityId, ...what, constraints, challenges, expiresAt: this.#d.now() + PENDING_TTL_MS, attempts: 0, busy: false });
    return { client_token: '', accessor: '', policies: null, token_policies: null, metadata: null, lease_duration: 0, renewable: false, entity_id: '', mfa_requirement: { mfa_request_id: id, mfa_constraints } };
  }

  /** One method's entry in `mfa_constraints.<name>.any`. */
  async #entry(methodId: string, entityId: string, challenges: Record<string, string>): Promise<Record<string, unknown>> {
    const m = await this.#d.store.method(methodId);
    if (m?.type !== 'webauthn') return { type: 'totp', id: methodId, uses_passcode: true, name: m?.name ?? '' };
    // No credential: allowCredentials is empty and validation answers ERR_MFA_NOT_ENROLLED.
    const options = await this.#d.webauthn.requestOptions(m, entityId);
    challenges[methodId] = options.challenge;
    return { type: 'webauthn', id: methodId, uses_passcode: false, name: m.name, webauthn_options: options };
  }

  #sweep(): void {
    const now = this.#d.now();
    for (const [k, p] of this.#pending) if (p.expiresAt <= now) this.#pending.delete(k);
    if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
  }

  /** Whether the entity can ever pass `methodId`: a TOTP secret, or at least one security key. */
  async #enrolled(methodId: string, entityId: string): Promise<boolean> {
    const m = await this.#d.store.method(methodId);
    if (!m) return false;
    if (m.type === 'webauthn') return (await this.#d.store.webauthnCredentials(methodId, entityId)).length > 0;
    return this.#d.store.enrolled(methodId, entityId);
  }

  /** Checks (and spends) one method's payload element. */
  async #check(methodId: string, p: Pending<T>, value: string): Promise<boolean> {
    const m = await this.#d.store.method(methodId);
    if (!m) return false;
    if (m.type === 'totp') return value.length <= MAX_PASSCODE_CHARS && this.#d.store.spend(methodId, p.entityId, value, this.#d.now());
    const challenge = p.challenges[methodId];
    return challenge !== undefined && this.#d.webauthn.verifyAssertion(m, p.entityId, challenge, value);
  }

  async validate(data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const f = parseFields(ValidateFields, data);
    const p = this.#pending.get(f.mfa_request_id);
    if (!p || p.expiresAt <= this.#d.now()) {
      this.#pending.delete(f.mfa_request_id);
      throw refused();
    }
    if (p.busy) throw refused();
    p.busy = true;
    try {
      // A method named by several enforcements is checked once: its code or assertion is spent by the first check.
      const passed = new Map<string, boolean>();
      for (const c of p.constraints) {
        let ok = false;
        for (const m of c.methodIds) {
          const value = f.mfa_payload[m]?.[0];
          if (value === undefined) continue;
          if (!passed.has(m)) passed.set(m, await this.#check(m, p, value));
          if (passed.get(m)) {
            ok = true;
            break;
          }
        }
        if (!ok) {
          let enrolled = false;
          for (const m of c.methodIds) if (!enrolled) enrolled = await this.#enrolled(m, p.entityId);
          if (++p.attempts >= MAX_ATTEMPTS) this.#pending.delete(f.mfa_request_id);
          throw enrolled ? refused() : notEnrolled();
        }
      }
      // Single use: the held-back login is issued once.
      this.#pending.delete(f.mfa_request_id);
      return await this.#d.issue(p.stepUpAccessor !== undefined ? await this.#d.stepUp(p.stepUpAccessor) : p.create!);
    } finally {
      p.busy = false;
    }
  }

  /** `sys/mfa/step-up`: an MFA requirement over every method the caller's entity is enrolled in. */
  async stepUp(auth: AuthContext | undefined): Promise<Record<string, unknown>> {
    const entityId = auth?.entityId;
    if (!auth || !entityId) throw new ArcaError('ERR_MFA_ENTITY_REQUIRED', 'step-up needs a token with an identity entity: log in through an auth method');
    // Step-up issues a child of the caller's token, found by its accessor: a batch token has neither.
    if (!auth.accessor) throw new ArcaError('ERR_INVALID_REQUEST', 'batch tokens cannot step up: log in with a role that issues service tokens');
    // Refuses tokens that cannot step up before asking for a second factor.
    await this.#d.stepUp(auth.accessor);
    const methods: string[] = [];
    for (const id of (await this.#d.store.methodIds()).sort()) if (await this.#enrolled(id, entityId)) methods.push(id);
    if (methods.length === 0) throw notEnrolled();
    return this.#open(entityId, [{ name: STEP_UP_CONSTRAINT, methodIds: methods }], { stepUpAccessor: auth.accessor });
  }

  /**
   * `sys/mfa/validate` (unauthenticated, as the caller of a login has no token yet; the request id is
   * the credential) and `sys/mfa/step-up` (authenticated: core/authz.ts UNAUTHENTICATED_PATHS).
   */
  register(router: EngineRouter): void {
    router
      .add('mfa/validate', { update: async (r) => ({ auth: await this.validate(r.data) }) })
      .add('mfa/step-up', { update: async (r) => ({ auth: await this.stepUp(r.auth) }) });
  }
}
