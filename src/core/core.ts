/**
 * The core: owns the barrier, the seal, tokens, mounts; runs every logical request through one
 * pipeline — seal check → token → mount → create/update resolution → ACL (default deny) → audit →
 * engine → token issue → audit. Nothing authorizes or audits per route.
 */
import { ArcaError, HTTP_STATUS, isArcaError, toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { Barrier, KEYRING_PATH } from '../barrier/index.ts';
import { addrInCidrs, type AuthContext, type Engine, type EngineRequest, type EngineResponse, type Operation } from '../engines/index.ts';
import type { ControlGroup } from '../policy/index.ts';
import type { AutoSeal } from '../seal/index.ts';
import { InmemStorage, StorageView, type Storage } from '../storage/index.ts';
import { allows, type Authorizer, canFunction, DENY_ALL, isUnauthenticated, ROOT_AUTHORIZER } from './authz.ts';
import { AttemptLimits } from './attempt-limits.ts';
import { type CoreRoute, type CoreRouteResult, CoreRoutes, routeHandler } from './core-routes.ts';
import type { EngineRegistry } from './engine-registry.ts';
import { loginTokenShape } from './login-token.ts';
import { type MountChange, MountTable, type MountEntry } from './mounts.ts';
import type { AuditSink } from './audit-sink.ts';
import { ExpirySweep } from './expiry-sweep.ts';
import { KeyHolders } from './key-holders.ts';
import { registerWrapRoute } from './builtin/wrap-route.ts';
import { type LossReport, registerSnapshot, verifyRestored } from './snapshot.ts';
import type { LogicalRequest, LogicalResponse } from './request.ts';
import { type InitParams, SealManager } from './seal-manager.ts';
import { type CreateTokenOptions, type TokenEntry, TokenStore } from './tokens.ts';

export type { AuditRecord, AuditSink } from './audit-sink.ts';

/** Where a mount's engine keeps its data, behind the barrier (a remount keeps it: the uuid stays). */
const engineStoragePrefix = (m: MountEntry) => `logical/${m.uuid}/`;

export interface CoreDeps {
  raw: Storage;
  log: Logger;
  storageType: string;
  engines: EngineRegistry;
  autoSeal?: AutoSeal;
  now?: () => number;
  /** Builds an authorizer for a token's policies (policy module); default: deny all but root. */
  authorizer?: (policies: string[]) => Promise<Authorizer>;
  audit?: AuditSink;
  /** HA: replicas share storage; this one serves only while active (set by the HA manager). */
  ha?: boolean;
  /** Called when in-memory caches outside the core must be dropped (becoming active). */
  onReload?: () => void;
  /** Mounts created on init (Vault dev mode mounts `secret/` as KV v2). */
  defaultMounts?: { path: string; type: string; options?: Record<string, string> }[];
  /** Identity entities and groups (token policies ∪ entity/group policies), login MFA. */
  identity?: IdentityHooks;
  /** Response wrapping and control-group requests (src/identity/wrapping.ts, control-groups.ts). */
  governance?: GovernanceHooks;
  /** How often engine ticks and the expiry sweep's due check run (default 10 s; tests shorten it). */
  tickMs?: number;
  /** The least time between two scheduled expiry sweeps (config `expirySweep.intervalSeconds`). */
  sweepIntervalMs?: number;
}

/** What a request held for quorum approval carries (stored inside the barrier until it runs). */
export interface DeferredRequest {
  path: string;
  operation: LogicalRequest['operation'];
  data: Record<string, unknown>;
  clientAddr: string;
  auth: AuthContext;
  controlGroup: ControlGroup;
}

export interface GovernanceHooks {
  /** Stores a request that needs approval; answers its `wrap_info` (token + accessor). */
  defer(r: DeferredRequest): Promise<Record<string, unknown>>;
  /** Stores a response behind a single-use wrapping token; answers its `wrap_info`. */
  wrap(res: { data?: unknown; auth?: unknown; warnings?: unknown }, ttlSeconds: number, path: string, auth: AuthContext | undefined): Promise<Record<string, unknown>>;
  /** Deletes expired wrapping tokens and control-group requests (the expiry sweep); answers how many. */
  sweep?(): Promise<number>;
}

/** Marks a request the core built itself to run an approved control-group request (never set by an adapter). */
const PREAUTH = Symbol('preauthenticated');
type Preauth = LogicalRequest & { [PREAUTH]?: TokenEntry };

export type SealState = 'uninitialized' | 'sealed' | 'unsealed';

/** The auth mount a login went through (identity aliases are keyed by its accessor). */
export interface LoginMount {
  accessor: string;
  type: string;
  path: string;
}

/** The identity module, as the core sees it (src/identity): used only for tokens with an entity. */
export interface IdentityHooks {
  /** The entity of a login's alias on this mount; created on first login. */
  resolve(mount: LoginMount, name: string, metadata: Record<string, string>, groups?: string[]): Promise<string>;
  /** Policies of the entity and its groups (cached, bounded staleness); undefined = disabled or gone. */
  policies(entityId: string): Promise<string[] | undefined>;
  /**
   * Login MFA (src/mfa): an `auth` block carrying an `mfa_requirement` instead of a token when the
   * mount enforces MFA for this entity; the token is created only once the second factor passes.
   */
  loginGate?(mount: LoginMount, entityId: string, create: CreateTokenOptions): Promise<Record<string, unknown> | undefined>;
}

export class Core {
  readonly barrier: Barrier;
  readonly seal: SealManager;
  readonly log: Logger;
  readonly storageType: string;
  readonly #raw: Storage;
  readonly #deps: CoreDeps;
  readonly #now: () => number;
  #tokens: TokenStore | undefined;
  #mounts: MountTable | undefined;
  #engines = new Map<string, Engine>();
  #active = true;
  #tick: NodeJS.Timeout | undefined;
  /** Failed authentications and unseal shares (attempt-limits.ts). */
  readonly #limits: AttemptLimits;
  /**
   * Expired tokens, wrapping tokens and control-group requests, removed from the tick when due
   * (expiry-sweep.ts); `auth/token/tidy` runs it at once, `sys/metrics` reads its stats.
   */
  readonly expirySweep: ExpirySweep;
  /** `sys/generate-root`, `sys/rekey` and `sys/rekey-recovery-key` (key-holders.ts). */
  readonly keyHolders: KeyHolders;
  /** Endpoints the core serves itself (sys/seal; sys/metrics and sys/step-down from the adapter). */
  readonly routes = new CoreRoutes();

  constructor(deps: CoreDeps) {
    this.#deps = deps;
    this.#raw = deps.raw;
    this.log = deps.log.child({ component: 'core' });
    this.storageType = deps.storageType;
    this.#now = deps.now ?? Date.now;
    this.barrier = new Barrier(deps.raw, this.#now);
    this.seal = new SealManager(deps.raw, this.barrier, this.log, deps.autoSeal);
    this.#active = !deps.ha;
    this.#limits = new AttemptLimits(this.#now, this.log);
    this.expirySweep = new ExpirySweep({ now: this.#now, tokens: () => this.tokens, governance: deps.governance?.sweep?.bind(deps.governance), log: this.log, intervalMs: deps.sweepIntervalMs });
    // Sealing acts on this replica (HA standbys included) and runs once its response is audited.
    this.routes.set('sys/seal', { local: true, handlers: { update: async () => ({ after: () => this.sealNow() }) } });
    this.keyHolders = new KeyHolders({
      seal: this.seal, tokens: () => this.tokens, log: this.log,
      limits: { beforeAttempt: (addr) => this.#limits.beforeUnseal(addr), failed: (addr) => this.#limits.unsealFailed(addr) },
    });
    this.keyHolders.register(this.routes);
    registerWrapRoute(this.routes);
    registerSnapshot(this.routes, { raw: deps.raw, barrier: this.barrier, storageType: deps.storageType, now: this.#now, reload: () => this.reload(), lossesOf: (b) => this.#restoreLosses(b), seal: () => this.sealNow() });
  }

  get state(): SealState {
    if (!this.seal.initialized) return 'uninitialized';
    return this.barrier.sealed ? 'sealed' : 'unsealed';
  }

  get isActive(): boolean {
    return this.#active;
  }

  /** Loads the seal record; auto-unseals when an HSM seal is configured and storage is initialized. */
  async start(): Promise<void> {
    await this.seal.load();
    if (this.seal.initialized && this.seal.sealType === 'pkcs11') {
      await this.seal.autoUnseal();
      await this.#postUnseal();
    }
  }

  async init(p: InitParams & { rootTokenId?: string }): Promise<{ keys: string[]; keysBase64: string[]; recoveryKeys: string[]; recoveryKeysBase64: string[]; rootToken: string }> {
    let token = '';
    const r = await this.seal.init(p, async (rootKey, keyring) => {
      const staged = await this.#initialState(rootKey, keyring, p.rootTokenId);
      token = staged.token;
      return staged.puts;
    });
    try {
      await this.barrier.unseal(r.rootKey);
    } finally {
      r.rootKey.fill(0);
    }
    // Shamir-sealed servers stay sealed after init (as Vault): operators must unseal.
    if (this.seal.sealType === 'shamir') this.barrier.seal();
    else await this.#postUnseal();
    return { keys: r.keys, keysBase64: r.keysBase64, recoveryKeys: r.recoveryKeys, recoveryKeysBase64: r.recoveryKeysBase64, rootToken: token };
  }

  /**
   * The initial store behind the barrier — the root token and the mount table — written under the new
   * keyring to a staging store in memory, so init commits it with the seal records in one transaction
   * (a storage failure part-way can no longer leave a store that reads as initialized without them).
   */
  async #initialState(rootKey: Uint8Array, keyring: Uint8Array, rootTokenId?: string): Promise<{ puts: [string, Uint8Array][]; token: string }> {
    const stage = new InmemStorage();
    await stage.put(KEYRING_PATH, keyring);
    const barrier = new Barrier(stage, this.#now);
    await barrier.unseal(rootKey);
    try {
      const { token } = await this.#newTokenStore(barrier).create({ policies: ['root'], displayName: 'root', path: 'auth/token/root', id: rootTokenId, noParent: true });
      const mounts = new MountTable(barrier);
      await mounts.load();
      await mounts.add('sys/', 'system', {}, 'system endpoints used for control, policy and debugging');
      await mounts.add('auth/token/', 'token', {}, 'token based credentials');
      for (const m of this.#deps.defaultMounts ?? []) await mounts.add(m.path, m.type, m.options ?? {});
      return { puts: (await stage.snapshot()).filter(([k]) => k !== KEYRING_PATH), token };
    } finally {
      barrier.seal();
    }
  }

  /** What restoring a snapshot (read through `incoming`) would lose, per mounted engine, prefixed with its mount. */
  async #restoreLosses(incoming: Barrier): Promise<LossReport> {
    const out: LossReport = { lines: [], prefixes: [] };
    for (const m of this.mounts.all) {
      const e = this.#engines.get(m.path);
      if (!e?.restoreLosses) continue;
      const prefix = engineStoragePrefix(m);
      out.prefixes.push(prefix);
      for (const line of await e.restoreLosses(new StorageView(incoming, prefix))) out.lines.push(`${m.path} ${line}`);
    }
    return out;
  }

  /** Adds one unseal share; returns whether the server is now unsealed. */
  async submitUnsealKey(key: unknown, clientAddr = ''): Promise<boolean> {
    if (this.state === 'uninitialized') throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
    if (this.state === 'unsealed') return true;
    this.#limits.beforeUnseal(clientAddr);
    let done: boolean;
    try {
      done = await this.seal.submitShare(key);
    } catch (err) {
      if (isArcaError(err) && err.code.startsWith('ERR_SEAL_')) {
        this.#limits.unsealFailed(clientAddr);
        // Audit devices are behind the barrier while sealed; the server log records the attempt.
        this.log.warn({ client: clientAddr, code: err.code }, 'unseal share refused');
      }
      throw err;
    }
    if (done) await this.#postUnseal();
    return done;
  }

  async sealNow(): Promise<void> {
    clearInterval(this.#tick);
    this.keyHolders.cancel();
    for (const e of this.#engines.values()) await e.close?.();
    this.#engines.clear();
    await this.#deps.audit?.stop?.();
    this.#tokens = undefined;
    this.#mounts = undefined;
    this.barrier.seal();
    this.seal.resetProgress();
    this.log.info('sealed');
  }

  /**
   * HA: before serving as active, re-read everything another replica may have changed while this one
   * was standby — the barrier keyring (rotations), the mount table, engine state, policy caches.
   */
  async becomeActive(): Promise<void> {
    await this.reload();
    this.#active = true;
  }

  /**
   * Drops every cache and engine and reads everything again from storage: the barrier keyring, the
   * seal record, tokens, the mount table and engines, policy and identity caches (becoming active,
   * and after a snapshot restore).
   */
  async reload(): Promise<void> {
    if (this.state !== 'unsealed') throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    await this.barrier.reloadKeyring();
    // Policy and identity caches first, so requests meanwhile read what storage holds now.
    this.#deps.onReload?.();
    // Another replica may have rekeyed while this one stood by: key holders' operations use the current shares.
    await this.seal.load();
    // Fresh token store: nothing another replica revoked may linger in a cache.
    this.#tokens = this.#newTokenStore();
    const mounts = await this.mounts.load();
    // The new engines are built first and swapped in at once: a request meanwhile never finds none.
    const next = new Map<string, Engine>();
    try {
      for (const m of mounts) {
        const engine = await this.#createEngine(m);
        if (engine) next.set(m.path, engine);
      }
      // Sealed meanwhile: the new engines must not come back on a sealed core.
      if (this.barrier.sealed) throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    } catch (err) {
      for (const e of next.values()) await e.close?.().catch(() => undefined);
      throw err;
    }
    const old = this.#engines;
    this.#engines = next;
    for (const e of old.values()) await e.close?.();
    // Again: a request that ran on the old engines may have filled a cache from them.
    this.#deps.onReload?.();
  }

  async becomeStandby(): Promise<void> {
    this.#active = false;
    this.keyHolders.cancel();
  }

  get haEnabled(): boolean {
    return this.#deps.ha === true;
  }

  /** Tokens live under sys/token/; batch tokens are sealed by the barrier itself and end with their auth mount. */
  #newTokenStore(barrier: Barrier = this.barrier): TokenStore {
    const mountLive = (accessor: string) => this.#mounts?.all.some((m) => m.accessor === accessor) ?? false;
    return new TokenStore(new StorageView(barrier, 'sys/token/'), this.#now, undefined, { sealer: barrier, mountLive });
  }

  async #postUnseal(): Promise<void> {
    if (!(await verifyRestored(this.#raw, this.barrier))) {
      this.barrier.seal();
      throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', 'this store was restored offline from a snapshot its server did not write whole (an entry was dropped, swapped or added): refusing to unseal; restore a genuine snapshot into an empty store again');
    }
    this.#tokens = this.#newTokenStore();
    this.#mounts = new MountTable(this.barrier);
    const mounts = await this.#mounts.load();
    for (const m of mounts) await this.#startEngine(m);
    await this.#deps.audit?.start?.();
    this.#tick = setInterval(() => void this.#runTicks(), this.#deps.tickMs ?? 10_000);
    this.#tick.unref();
    this.log.info({ mounts: mounts.length }, 'unsealed');
  }

  async #runTicks(): Promise<void> {
    if (!this.#active || this.barrier.sealed) return;
    for (const [path, e] of this.#engines) {
      try {
        await e.tick?.();
      } catch (err) {
        this.log.warn({ mount: path, err: toArcaError(err).code }, 'engine tick failed');
      }
    }
    if (this.expirySweep.due()) await this.expirySweep.run().catch((err: unknown) => this.log.warn({ err: toArcaError(err).code }, 'expiry sweep failed'));
  }

  async #startEngine(m: MountEntry): Promise<void> {
    const engine = await this.#createEngine(m);
    if (engine) this.#engines.set(m.path, engine);
  }

  async #createEngine(m: MountEntry): Promise<Engine | undefined> {
    const factory = this.#deps.engines.get(m.type);
    if (!factory) {
      this.log.warn({ mount: m.path, type: m.type }, 'no engine for mount type; mount is unavailable');
      return undefined;
    }
    return factory(
      {
        storage: new StorageView(this.barrier, engineStoragePrefix(m)),
        log: this.log.child({ mount: m.path }),
        now: this.#now,
        isActive: () => this.#active,
      },
      m.options,
      this,
    );
  }

  get tokens(): TokenStore {
    if (!this.#tokens) throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    return this.#tokens;
  }

  get mounts(): MountTable {
    if (!this.#mounts) throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    return this.#mounts;
  }

  /**
   * Enables a mount with its enable-time config. The engine starts first (its factory checks the
   * options) and the table is written once after, so a refused or failed enable leaves nothing behind.
   */
  async mount(path: string, type: string, options: Record<string, string>, description: string, change: MountChange = {}): Promise<void> {
    if (!this.#deps.engines.has(type)) throw new ArcaError('ERR_INVALID_REQUEST', `unknown backend type: "${type}"`);
    const m = this.mounts.planAdd(path, type, options, description, change);
    const engine = await this.#createEngine(m);
    try {
      await this.mounts.applyAdd(m);
    } catch (err) {
      await engine?.close?.();
      throw err;
    }
    if (engine) this.#engines.set(m.path, engine);
  }

  /**
   * `sys/remount`: the engine at `from` is replaced by one at `to` over the same data. The new engine
   * starts first; only then is the table written and the old one closed, so a failure changes nothing.
   */
  async remount(from: string, to: string): Promise<MountEntry> {
    const plan = this.mounts.planMove(from, to);
    const engine = await this.#createEngine(plan.moved);
    try {
      if (!(await this.mounts.applyMove(plan))) throw new ArcaError('ERR_STORAGE_CONFLICT', 'the mount table changed during the move; nothing was moved, try again');
    } catch (err) {
      await engine?.close?.();
      throw err;
    }
    const old = this.#engines.get(plan.from);
    this.#engines.delete(plan.from);
    if (engine) this.#engines.set(plan.moved.path, engine);
    await old?.close?.();
    this.log.info({ from: plan.from, to: plan.moved.path }, 'secrets engine moved');
    return plan.moved;
  }

  async unmount(path: string): Promise<void> {
    const cur = this.mounts.planRemove(path);
    // Disabling an auth method logs out everyone it logged in, as in Vault: its stored tokens are
    // revoked first, so a failure part-way leaves the method enabled and a retry revokes the rest;
    // its batch tokens stop resolving with its accessor once it is gone. (A login still in flight when
    // the mount goes may finish after this scan; its token then lives to its TTL.)
    if (cur?.path.startsWith('auth/')) {
      const revoked = await this.tokens.revokeIssuedUnder(cur.path);
      this.log.info({ mount: cur.path, revoked }, 'auth method disabling: its tokens were revoked');
    }
    const m = await this.mounts.remove(path);
    if (!m) return;
    await this.#engines.get(m.path)?.close?.();
    this.#engines.delete(m.path);
    // Engine data is left for an operator to clean up; we never delete without being asked twice.
  }

  async authorizerFor(policies: string[]): Promise<Authorizer> {
    if (policies.includes('root')) return ROOT_AUTHORIZER;
    return this.#deps.authorizer ? this.#deps.authorizer(policies) : DENY_ALL;
  }

  /**
   * Resolves a token used from `clientAddr` to its entry (or a coded 403/429; a token bound to CIDR
   * blocks that leave the address out is a 403 here and in the cached path). Limits only shape the answer to a failed
   * lookup, so a valid token is never refused because others at its address failed (attempt-limits.ts).
   */
  async authenticate(token: string | undefined, clientAddr = ''): Promise<TokenEntry> {
    if (!token) throw new ArcaError('ERR_PERMISSION_DENIED', NO_TOKEN_MESSAGE);
    this.#limits.beforeLookup(clientAddr, token);
    const e = await this.tokens.lookup(token);
    if (e) return usableFrom(e, clientAddr);
    this.#limits.lookupFailed(clientAddr, token);
    throw new ArcaError('ERR_TOKEN_INVALID', '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');
  }

  /** `authenticate`'s answer when the token is in the token cache (limits checked first, as there); else undefined. */
  #cachedToken(token: string | undefined, clientAddr: string): TokenEntry | undefined {
    if (!token) return undefined;
    this.#limits.beforeLookup(clientAddr, token);
    const e = this.tokens.cached(token);
    return e && usableFrom(e, clientAddr);
  }

  static authContext(e: TokenEntry, policies: string[] = e.policies): AuthContext {
    const a: AuthContext = {
      accessor: e.accessor,
      policies,
      displayName: e.displayName,
      root: e.policies.includes('root'),
      metadata: e.meta,
      entityId: e.entityId ?? '',
    };
    if (e.mfaAt) a.mfaAt = e.mfaAt;
    return a;
  }

  /**
   * A token's effective policies: its own ∪ its entity's and the entity's groups' (read at request
   * time, so group changes reach live tokens within the identity cache bound). Identity never grants root.
   */
  async effectivePolicies(e: TokenEntry): Promise<string[]> {
    if (!e.entityId || !this.#deps.identity) return e.policies;
    const extra = await this.#deps.identity.policies(e.entityId);
    if (!extra?.length) return e.policies;
    return [...new Set([...e.policies, ...extra.filter((p) => p !== 'root')])].sort();
  }

  /** The one request pipeline. */
  async handle(req: LogicalRequest): Promise<LogicalResponse> {
    if (this.state === 'uninitialized') throw new ArcaError('ERR_SEALED', 'Vault is not initialized');
    if (this.state === 'sealed') throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    const path = req.path.charCodeAt(0) === 0x2f ? req.path.replace(/^\/+/, '') : req.path;
    const route = this.routes.get(path);
    if (!this.#active && !route?.local) throw new ArcaError('ERR_HA_STANDBY', 'this replica is a standby and no active replica is known; retry shortly');
    const mount = this.#mounts!.match(path);
    const unauthenticated = isUnauthenticated(path, mount);
    const engine = mount ? this.#engines.get(mount.path) : undefined;
    // What the audit HMACs in the request (a response's data is HMAC'd whole, under `data`): a core
    // route's own list (sys/wrapping/wrap: every leaf), else the engine's. Known before the token is,
    // so a refused request is audited under the same rules.
    const sensitive = route?.sensitive ?? engine?.sensitiveFields ?? [];
    let entry: TokenEntry | undefined = (req as Preauth)[PREAUTH];
    if (!entry && (!unauthenticated || req.token)) {
      try {
        // A cached token needs no await (each is a microtask hop on every request).
        entry = this.#cachedToken(req.token, req.clientAddr) ?? (await this.authenticate(req.token, req.clientAddr));
      } catch (err) {
        if (!unauthenticated) {
          // Failed authentications are audited too (no auth block, the error code only).
          if (isArcaError(err) && (err.code === 'ERR_TOKEN_INVALID' || err.code === 'ERR_RATE_LIMITED')) {
            await this.#audit(req, undefined, sensitive, err.code === 'ERR_RATE_LIMITED' ? 429 : 403, undefined, err.code);
          }
          throw err;
        }
      }
    }
    // Only tokens with an entity pay for the identity lookup (a cached map read).
    const policies = entry?.entityId ? await this.effectivePolicies(entry) : entry?.policies;
    const auth = entry ? Core.authContext(entry, policies) : undefined;
    const authorizer = !entry ? DENY_ALL : policies!.includes('root') ? ROOT_AUTHORIZER : await this.authorizerFor(policies!);

    const ereq: EngineRequest = {
      id: req.id,
      operation: 'read',
      path: mount ? path.slice(mount.path.length) : path,
      mountPoint: mount?.path ?? '',
      data: req.data,
      auth,
      clientAddr: req.clientAddr,
      tlsClientCerts: req.tlsClientCerts,
      can: canFunction(authorizer),
    };
    if (req.wrapTtl) ereq.wrapTtl = req.wrapTtl;
    // Vault: PUT/POST become create or update by the target's existence.
    let op: Operation;
    if (req.operation === 'write') op = !route && engine?.exists && (await engine.exists({ ...ereq, operation: 'update' })) === false ? 'create' : 'update';
    else op = req.operation;
    ereq.operation = op;

    // ACL runs before routing: a token not allowed on the path gets 403 even for unmounted paths.
    if (!unauthenticated && !allows(authorizer, path, op, req.data)) {
      await this.#audit(req, auth, sensitive, 403, undefined, 'permission denied');
      throw new ArcaError('ERR_PERMISSION_DENIED', '1 error occurred:\n\t* permission denied\n\n');
    }
    // Quorum approval: only authorizers built from policies with a control group have this method.
    const quorum = authorizer.controlGroup && !(req as Preauth)[PREAUTH] && !unauthenticated ? authorizer.controlGroup(path, op) : undefined;
    // Approval runs the request later as the requester's token, found by its accessor: a batch token has none.
    if (quorum && entry?.type === 'batch') {
      await this.#audit(req, auth, sensitive, 400, undefined, 'control group needs a service token');
      throw new ArcaError('ERR_INVALID_REQUEST', 'this path requires quorum approval, which needs a service token: batch tokens cannot wait for approval (log in with a role whose token_type is service)');
    }
    if (quorum && !this.#deps.governance) {
      await this.#audit(req, auth, sensitive, 403, undefined, 'control group not available');
      throw new ArcaError('ERR_CONTROL_GROUP_DENIED', 'this path requires quorum approval, which this server does not provide');
    }
    await this.#deps.audit?.request({ req, auth, sensitive });
    if (!mount || !engine) {
      await this.#audit(req, auth, sensitive, 404, undefined, 'no handler for route');
      throw new ArcaError('ERR_NOT_FOUND', `no handler for route "${path}": mounted paths are ${this.mounts.all.map((m) => m.path).sort().join(', ')}`);
    }

    // num_uses: the use is spent atomically before the engine runs; with no use left, nothing runs.
    if (entry && entry.numUses > 0 && !unauthenticated) {
      entry = await this.tokens.consume(entry).catch(async (err: unknown) => {
        const e = toArcaError(err);
        await this.#audit(req, auth, sensitive, HTTP_STATUS[e.code], undefined, e.code);
        throw err;
      });
    }
    // The token engine's `*-self` answers carry the caller's token (Vault's data.id, auth.client_token).
    if (engine.type === 'token' && req.token) clientTokens.set(ereq, req.token);
    let res: (EngineResponse & Pick<CoreRouteResult, 'raw'>) | undefined;
    let after: CoreRouteResult['after'];
    let wrapInfo: Record<string, unknown> | undefined;
    try {
      if (quorum) wrapInfo = await this.#deps.governance!.defer({ path, operation: req.operation, data: req.data, clientAddr: req.clientAddr, auth: auth!, controlGroup: quorum });
      else if (route) ({ after, ...res } = await this.#runRoute(route, ereq));
      else res = await engine.handle(ereq);
      if (res?.issue) res = await this.#issue(res, entry, path, mount);
    } catch (err) {
      // The adapter logs every 5xx with its code and cause chain under the request id.
      const e = toArcaError(err);
      await this.#audit(req, auth, sensitive, HTTP_STATUS[e.code], undefined, e.expose ? e.message : 'internal error', e);
      throw e;
    } finally {
      if (entry?.pendingRevocation) await this.tokens.release(entry);
    }
    const hasBody = res !== undefined && (res.data !== undefined || res.warnings !== undefined || res.auth !== undefined);
    let out: LogicalResponse = {
      status: res?.status ?? (hasBody || wrapInfo ? 200 : 204),
      mountType: engine.type,
    };
    if (res?.data !== undefined) out.data = res.data;
    if (res?.warnings) out.warnings = res.warnings;
    if (res?.auth) out.auth = res.auth;
    if (res?.raw) out.raw = res.raw;
    if (req.wrapTtl && !wrapInfo && out.status < 300 && !out.raw) {
      if (!this.#deps.governance) throw new ArcaError('ERR_INVALID_REQUEST', 'response wrapping is not available on this server');
      wrapInfo = await this.#deps.governance.wrap({ data: out.data, auth: out.auth, warnings: out.warnings }, req.wrapTtl, path, auth);
      out = { status: 200, mountType: engine.type };
    }
    if (wrapInfo) out.wrapInfo = wrapInfo;
    const audited: Record<string, unknown> = { data: (wrapInfo ? undefined : res?.auditData) ?? out.data ?? null, auth: out.auth ?? null };
    if (wrapInfo) audited['wrap_info'] = { accessor: wrapInfo['accessor'], ttl: wrapInfo['ttl'], creation_path: wrapInfo['creation_path'] };
    await this.#audit(req, auth, sensitive, out.status, audited);
    if (after) await after();
    return out;
  }

  /**
   * Runs an approved control-group request through the whole pipeline (ACL, audit, engine) as the
   * token `accessor`, without asking for approval again. Only the governance module calls this, once
   * per approved request (its wrapping token is spent first).
   */
  async executeApproved(r: Pick<DeferredRequest, 'path' | 'operation' | 'data' | 'clientAddr'>, accessor: string, id: string): Promise<LogicalResponse> {
    const entry = await this.tokens.lookupAccessor(accessor);
    if (!entry) throw new ArcaError('ERR_TOKEN_INVALID', '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');
    const req: Preauth = { id, operation: r.operation, path: r.path, data: r.data, token: undefined, clientAddr: r.clientAddr, [PREAUTH]: entry };
    return this.handle(req);
  }

  async #runRoute(route: CoreRoute, req: EngineRequest): Promise<CoreRouteResult> {
    const h = routeHandler(route, req.operation);
    if (!h) throw new ArcaError('ERR_UNSUPPORTED_OPERATION', 'unsupported operation');
    return h(req);
  }

  /**
   * Every route the mounted engines and the core serve, as full logical paths with their operations.
   * A mounted engine that cannot list its routes shows as `<mount>*` with no operations, so the
   * authorization-matrix test fails on it rather than silently skipping it.
   */
  listRoutes(): { path: string; operations: Operation[] }[] {
    const out: { path: string; operations: Operation[] }[] = [];
    for (const m of this.mounts.all) {
      const routes = this.#engines.get(m.path)?.routes?.();
      if (!routes) out.push({ path: `${m.path}*`, operations: [] });
      else for (const r of routes) out.push({ path: m.path + r.pattern, operations: [...r.operations] });
    }
    return [...out, ...this.routes.list()];
  }

  /**
   * The mount serving `path` (with its trailing '/'), or undefined when none does or the server is
   * sealed. Bounded by the mount table, so safe as a metrics label.
   */
  mountOf(path: string): string | undefined {
    return this.#mounts?.match(path)?.path;
  }

  /** Not `async`: with no audit sink it returns nothing to wait for; else the sink's own promise. */
  #audit(req: LogicalRequest, auth: AuthContext | undefined, sensitive: readonly string[], status: number, response?: Record<string, unknown>, error?: string, err?: ArcaError): Promise<void> | undefined {
    if (!this.#deps.audit) return undefined;
    const rec: Parameters<AuditSink['response']>[0] = { req, auth, sensitive, status };
    if (response) rec.response = response;
    // An auth method's refusal may say who was refused (e.g. the service account): audit trail only, never the client.
    else if (err?.details?.['auditMetadata']) rec.response = { data: null, metadata: err.details['auditMetadata'] };
    if (error) rec.error = error;
    return this.#deps.audit.response(rec);
  }

  async #issue(res: EngineResponse, parent: TokenEntry | undefined, path: string, mount: MountEntry): Promise<EngineResponse> {
    const i = res.issue!;
    if (i.policies.includes('root')) throw new ArcaError('ERR_INVALID_REQUEST', 'auth methods cannot create root tokens');
    // The auth mount's token_type and TTLs (sys/auth tune) over what the role asked for.
    const shape = loginTokenShape(i, mount);
    const opts: CreateTokenOptions = {
      policies: i.policies, displayName: i.displayName, ttl: shape.ttl, renewable: shape.renewable, meta: i.metadata,
      explicitMaxTtl: shape.explicitMaxTtl, numUses: shape.numUses, period: shape.period,
      path, parent: i.orphan ? undefined : parent, noParent: i.orphan, batch: shape.batch, mountAccessor: mount.accessor, boundCidrs: i.boundCidrs,
      // A login's token is the one write whose loss in a crash is harmless (the holder logs in again),
      // and at one fsync per login it bounds login throughput on a durable backend: docs/architecture.md.
      relaxed: true,
    };
    const id = this.#deps.identity;
    if (i.alias && id) {
      const lm: LoginMount = { accessor: mount.accessor, type: mount.type, path: mount.path };
      opts.entityId = await id.resolve(lm, i.alias.name, i.alias.metadata ?? {}, i.alias.groups);
      const pending = await id.loginGate?.(lm, opts.entityId, opts);
      if (pending) return { ...res, issue: undefined, auth: pending } as EngineResponse;
    }
    const { token, entry } = await this.tokens.create(opts);
    return { ...res, issue: undefined, auth: authBlock(token, entry, await this.effectivePolicies(entry)) } as EngineResponse;
  }

  async close(): Promise<void> {
    await this.sealNow();
    for (const e of this.#engines.values()) await e.close?.();
    await this.#deps.autoSeal?.close();
    await this.#raw.close();
  }
}

/** The entry, unless the token is bound to CIDR blocks (`token_bound_cidrs`) that leave out this client address. */
function usableFrom(e: TokenEntry, clientAddr: string): TokenEntry {
  if (e.boundCidrs && !addrInCidrs(e.boundCidrs, clientAddr)) {
    throw new ArcaError('ERR_TOKEN_INVALID', 'permission denied: this token may not be used from this client address (its token_bound_cidrs)');
  }
  return e;
}

/** The caller's token for the token engine only (other engines never see a token). */
const clientTokens = new WeakMap<EngineRequest, string>();
export function clientTokenOf(req: EngineRequest): string | undefined {
  return clientTokens.get(req);
}

/** What a request without a token is told (code ERR_PERMISSION_DENIED, as Vault's 403). */
export const NO_TOKEN_MESSAGE = 'permission denied: no token was sent; set ARCA_TOKEN (or send X-Vault-Token) or log in first';

/** Vault's `auth` response block for a freshly issued token. */
export function authBlock(token: string, e: TokenEntry, policies: string[] = e.policies): Record<string, unknown> {
  const identity = policies.filter((p) => !e.policies.includes(p));
  return {
    client_token: token,
    accessor: e.accessor,
    policies,
    token_policies: e.policies,
    identity_policies: identity.length ? identity : null,
    metadata: Object.keys(e.meta).length ? e.meta : null,
    lease_duration: e.ttl,
    renewable: e.renewable,
    entity_id: e.entityId ?? '',
    token_type: e.type ?? 'service',
    orphan: e.orphan,
    mfa_requirement: null,
    num_uses: e.numUses,
  };
}
