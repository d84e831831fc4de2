/**
 * Quorum approval (Vault's control groups, failing closed). A request whose deciding ACL rule has a
 * control group is not executed: it is stored (inside the barrier, `sys/control-group/request/<acc>`)
 * behind a wrapping token whose accessor approvers see. Rules:
 *   - an approval counts for a factor when its entity is currently in one of the factor's groups and
 *     is not the requester's entity (so no token or alias of the requester counts);
 *   - approvals are by distinct entities (approving twice counts once);
 *   - zero approvals configured, no groups, or fewer eligible entities than approvals: denied at once;
 *   - a request expires after the control group's ttl and can then be neither approved nor run;
 *   - the requester's entity unwraps it once all factors are met: it runs then, exactly once, through
 *     the core pipeline (ACL and audit), and the wrapping token is spent before it runs.
 */
import { z } from 'zod';
import type { AuthContext, EngineRouter } from '../engines/index.ts';
import { ArcaError } from '../errors/index.ts';
import { parseFields } from '../engines/index.ts';
import type { ControlGroup } from '../policy/index.ts';
import { type ReadOptions, type Storage, scanKeys } from '../storage/index.ts';
import type { IdentityStore } from './store.ts';
import { type WrapStore, wrappingInvalid } from './wrapping.ts';

export interface StoredRequest {
  accessor: string;
  path: string;
  operation: 'read' | 'list' | 'delete' | 'patch' | 'write';
  data: Record<string, unknown>;
  clientAddr: string;
  requester: { entityId: string; accessor: string; displayName: string };
  controlGroup: ControlGroup;
  createdAt: number;
  expiresAt: number;
  approvals: { entity_id: string; entity_name: string; time: string }[];
}

export interface ControlGroupDeps {
  storage: () => Storage;
  wraps: WrapStore;
  identity: IdentityStore;
  now: () => number;
  /** Core.executeApproved: runs the stored request once as the unwrapping token. */
  execute: (r: StoredRequest, accessor: string) => Promise<{ data?: unknown; auth?: unknown; warnings?: unknown; status: number }>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const AccessorField = z.object({ accessor: z.string().min(1).max(64) });
const TokenField = z.object({ token: z.string().min(1).max(256) });
const denied = (why: string) => new ArcaError('ERR_CONTROL_GROUP_DENIED', why);

export class ControlGroups {
  readonly #d: ControlGroupDeps;

  constructor(d: ControlGroupDeps) {
    this.#d = d;
  }

  #s(): Storage {
    return this.#d.storage();
  }

  async #load(accessor: string, opts?: ReadOptions): Promise<{ raw: Uint8Array; r: StoredRequest } | undefined> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(accessor)) return undefined;
    const raw = await this.#s().get(`request/${accessor}`, opts);
    return raw ? { raw, r: JSON.parse(dec.decode(raw)) as StoredRequest } : undefined;
  }

  /** Deletes an expired request with its wrapping token; answers whether it was expired. */
  async #dropIfExpired(accessor: string, r: StoredRequest): Promise<boolean> {
    if (r.expiresAt > this.#d.now()) return false;
    await this.#s().delete(`request/${accessor}`);
    await this.#d.wraps.revokeAccessor(accessor);
    return true;
  }

  /** Deletes every expired request with its wrapping token (the core's maintenance); answers how many. */
  async sweepExpired(): Promise<number> {
    let n = 0;
    for await (const a of scanKeys(this.#s(), 'request/')) {
      const cur = await this.#load(a, { uncached: true }); // a sweep's one-off read (storage.ts, ReadOptions)
      if (cur && (await this.#dropIfExpired(a, cur.r))) n++;
    }
    return n;
  }

  /** Entities currently able to approve a factor (members of its groups, minus the requester). */
  async #eligible(groupNames: readonly string[], requester: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const g of await this.#d.identity.groups()) {
      if (groupNames.includes(g.name)) for (const m of g.member_entity_ids) if (m !== requester) out.add(m);
    }
    return out;
  }

  /** Per factor: approvals that count now, and whether every factor is met. */
  async status(r: StoredRequest): Promise<{ approved: boolean; factors: { name: string; have: number; need: number }[] }> {
    const factors = [];
    for (const f of r.controlGroup.factors) {
      const eligible = await this.#eligible(f.groupNames, r.requester.entityId);
      const have = new Set(r.approvals.map((a) => a.entity_id).filter((e) => eligible.has(e))).size;
      factors.push({ name: f.name, have, need: f.approvals });
    }
    return { approved: factors.length > 0 && factors.every((f) => f.need >= 1 && f.have >= f.need), factors };
  }

  /** Core hook: stores a request needing approval and answers its wrap_info. */
  async defer(req: { path: string; operation: StoredRequest['operation']; data: Record<string, unknown>; clientAddr: string; auth: AuthContext; controlGroup: ControlGroup }): Promise<Record<string, unknown>> {
    for (const f of req.controlGroup.factors) {
      if (f.approvals < 1 || f.groupNames.length === 0) throw denied(`control group factor "${f.name}" has no approvers configured: the request is denied`);
      if ((await this.#eligible(f.groupNames, req.auth.entityId)).size < f.approvals) {
        throw denied(`control group factor "${f.name}" has fewer eligible approvers than the ${f.approvals} approvals it needs: the request is denied`);
      }
    }
    const now = this.#d.now();
    const { entry, info } = await this.#d.wraps.create({
      ttl: req.controlGroup.ttl, creationPath: req.path, kind: 'control-group', requesterEntity: req.auth.entityId, requesterAccessor: req.auth.accessor,
    });
    const stored: StoredRequest = {
      accessor: entry.accessor, path: req.path, operation: req.operation, data: req.data, clientAddr: req.clientAddr,
      requester: { entityId: req.auth.entityId, accessor: req.auth.accessor, displayName: req.auth.displayName },
      controlGroup: req.controlGroup, createdAt: now, expiresAt: now + req.controlGroup.ttl * 1000, approvals: [],
    };
    await this.#s().put(`request/${entry.accessor}`, enc.encode(JSON.stringify(stored)));
    return info;
  }

  async #view(r: StoredRequest): Promise<Record<string, unknown>> {
    const st = await this.status(r);
    const requester = r.requester.entityId ? await this.#d.identity.entity(r.requester.entityId) : undefined;
    return {
      approved: st.approved, request_path: r.path, request_operation: r.operation,
      request_entity: { id: r.requester.entityId, name: requester?.name ?? '' },
      authorizations: r.approvals.map((a) => ({ entity_id: a.entity_id, entity_name: a.entity_name })),
      // Arca additions for the UI: when it was asked, and which factors need a recent MFA login (step-up).
      factors: st.factors.map((f) => ({ ...f, require_mfa_within: r.controlGroup.factors.find((c) => c.name === f.name)?.mfaWithin ?? 0 })),
      creation_time: new Date(r.createdAt).toISOString(), expire_time: new Date(r.expiresAt).toISOString(), expired: r.expiresAt <= this.#d.now(),
    };
  }

  async #authorize(accessor: string, auth: AuthContext | undefined): Promise<Record<string, unknown>> {
    const approver = auth?.entityId;
    if (!approver) throw denied('only a token with an identity entity can approve: log in through an auth method');
    for (let i = 0; i < 16; i++) {
      const cur = await this.#load(accessor);
      if (!cur) throw new ArcaError('ERR_NOT_FOUND', 'no control-group request with this accessor');
      const r = cur.r;
      if (r.expiresAt <= this.#d.now()) throw denied('the request has expired and can no longer be approved');
      if (approver === r.requester.entityId) throw denied("the requester's own entity cannot approve its request");
      const groups = await this.#d.identity.groupNamesOf(approver);
      const mine = r.controlGroup.factors.filter((f) => f.groupNames.some((g) => groups.includes(g)));
      if (mine.length === 0) throw denied('this entity is in none of the groups that may approve the request');
      // Step-up: a factor may require the approver's token to come from a recent MFA login.
      const within = Math.max(...mine.map((f) => f.mfaWithin ?? 0));
      if (within > 0 && !(auth?.mfaAt && this.#d.now() / 1000 - auth.mfaAt <= within)) {
        // A code of its own: a client (the UI) answers it with a step-up (sys/mfa/step-up), not a refusal.
        throw new ArcaError('ERR_CONTROL_GROUP_MFA_REQUIRED', `approving this request requires a token from an MFA login within the last ${within} seconds: step up with sys/mfa/step-up or log in again with your second factor`);
      }
      if (!r.approvals.some((a) => a.entity_id === approver)) {
        const name = (await this.#d.identity.entity(approver))?.name ?? '';
        const next: StoredRequest = { ...r, approvals: [...r.approvals, { entity_id: approver, entity_name: name, time: new Date(this.#d.now()).toISOString() }] };
        if (!(await this.#s().putIf(`request/${accessor}`, enc.encode(JSON.stringify(next)), cur.raw))) continue;
        return { approved: (await this.status(next)).approved };
      }
      return { approved: (await this.status(r)).approved };
    }
    throw new ArcaError('ERR_STORAGE_CONFLICT', 'the request is being approved concurrently; retry');
  }

  /** Unwraps a control-group token: runs the approved request once, as the requester's entity. */
  async #unwrapRequest(token: string, auth: AuthContext | undefined): Promise<{ data?: unknown; auth?: unknown; warnings?: unknown }> {
    let stored: StoredRequest | undefined;
    await this.#d.wraps.spend(token, async (e) => {
      const mine = e.requesterEntity ? auth?.entityId === e.requesterEntity : auth?.accessor === e.requesterAccessor;
      if (!auth || !mine) throw denied("only the requester's entity can unwrap a control-group request: send its token");
      const cur = await this.#load(e.accessor);
      if (!cur || cur.r.expiresAt <= this.#d.now()) throw wrappingInvalid();
      if (!(await this.status(cur.r)).approved) throw denied('the request is not approved yet');
      stored = cur.r;
    });
    const r = stored!;
    await this.#s().delete(`request/${r.accessor}`);
    const res = await this.#d.execute(r, auth!.accessor);
    return { data: res.data ?? null, ...(res.auth ? { auth: res.auth } : {}), ...(res.warnings ? { warnings: res.warnings } : {}) };
  }

  register(router: EngineRouter): void {
    router
      .add('control-group/request', {
        update: async (req) => {
          const cur = await this.#load(parseFields(AccessorField, req.data).accessor);
          if (!cur) throw new ArcaError('ERR_NOT_FOUND', 'no control-group request with this accessor');
          return { data: await this.#view(cur.r) };
        },
      })
      .add('control-group/authorize', { update: async (req) => ({ data: await this.#authorize(parseFields(AccessorField, req.data).accessor, req.auth) }) })
      .add('control-group/requests', {
        list: async () => {
          const keys: string[] = [];
          const info: Record<string, unknown> = {};
          for (const a of await this.#s().list('request/')) {
            const cur = await this.#load(a);
            if (!cur || (await this.#dropIfExpired(a, cur.r))) continue;
            keys.push(a);
            info[a] = await this.#view(cur.r);
          }
          return { data: { keys, key_info: info } };
        },
      })
      .add('wrapping/lookup', {
        update: async (req) => {
          const e = await this.#d.wraps.lookup(parseFields(TokenField, req.data).token);
          return { data: { creation_path: e.creationPath, creation_time: new Date(e.creationTime).toISOString(), creation_ttl: e.ttl } };
        },
      })
      .add('wrapping/unwrap', {
        update: async (req) => {
          const { token } = parseFields(TokenField, req.data);
          const e = await this.#d.wraps.lookup(token);
          if (e.kind === 'control-group') return this.#unwrapRequest(token, req.auth) as Promise<{ data: Record<string, unknown> | null }>;
          const spent = await this.#d.wraps.spend(token);
          const w = spent.response ?? {};
          return { data: (w.data as Record<string, unknown> | null | undefined) ?? null, ...(w.auth ? { auth: w.auth as Record<string, unknown> } : {}), ...(w.warnings ? { warnings: w.warnings as string[] } : {}) };
        },
      })
      .add('wrapping/rewrap', {
        update: async (req) => {
          const { token } = parseFields(TokenField, req.data);
          const e = await this.#d.wraps.lookup(token);
          if (e.kind === 'control-group') throw new ArcaError('ERR_INVALID_REQUEST', 'a control-group request cannot be rewrapped');
          const { info } = await this.#d.wraps.rewrap(token);
          return { data: { wrap_info: info } };
        },
      });
  }
}
