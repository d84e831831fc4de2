/**
 * Which engines this build provides, the mounts a fresh server gets, and the policy wiring.
 * Kept apart from assemble.ts so adding an engine is a one-line change here.
 */
import { authBlock, type Core, type CreateTokenOptions, type EngineRegistry, type Authorizer, type AuditSink, type GovernanceHooks, type IdentityHooks, type SystemExtension } from '../core/index.ts';
import { AuditManager } from '../core/builtin/audit.ts';
import { AuthMounts } from '../core/builtin/auth-mounts.ts';
import { PolicyStore } from '../core/builtin/policies.ts';
import type { Logger } from '../log/index.ts';
import { createKvEngine } from '../engines/kv/index.ts';
import { createTransitEngine } from '../engines/transit/index.ts';
import { createKubernetesAuthEngine } from '../engines/auth-kubernetes/index.ts';
import { createPkiEngine } from '../engines/pki/index.ts';
import { createCertAuthEngine } from '../engines/auth-cert/index.ts';
import { createUserpassAuthEngine } from '../engines/auth-userpass/index.ts';
import { createOidcAuthEngine } from '../engines/auth-oidc/index.ts';
import { ControlGroups, createIdentityEngine, IdentityStore, WrapStore } from '../identity/index.ts';
import { randomUUID } from 'node:crypto';
import { StorageView } from '../storage/index.ts';
import { ArcaError } from '../errors/index.ts';
import { MfaGate, MfaStore, registerMfaRoutes, registerWebauthnRoutes, Webauthn } from '../mfa/index.ts';
import type { KeyBackend } from '../keys/backend.ts';
import { SoftwareKeyBackend } from '../keys/software.ts';

export interface EngineWiring {
  extensions: SystemExtension[];
  defaultMounts: { path: string; type: string; options?: Record<string, string> }[];
  authorizer?: (core: () => Core) => (policies: string[]) => Promise<Authorizer>;
  audit?: AuditSink;
  onReload?: () => void;
  identity?: IdentityHooks;
  governance?: GovernanceHooks;
}

export interface EngineDeps {
  /** HSM key backend for `hsm-aes256-gcm96` transit keys, when a PKCS#11 token is configured. */
  hsmKeys?: KeyBackend | undefined;
  /** Local directory for audit spools (durable queues in front of slow devices). */
  auditSpoolDir: string;
  log: Logger;
}

export async function registerEngines(engines: EngineRegistry, deps: EngineDeps): Promise<EngineWiring & { audit: AuditManager }> {
  const software = new SoftwareKeyBackend();
  engines.set('kv', (ctx, options) => createKvEngine(ctx, options));
  engines.set('transit', (ctx) => createTransitEngine(ctx, { software, ...(deps.hsmKeys ? { hsm: deps.hsmKeys } : {}) }));
  engines.set('kubernetes', (ctx) => createKubernetesAuthEngine(ctx));
  engines.set('cert', (ctx) => createCertAuthEngine(ctx));
  engines.set('pki', (ctx, options) => createPkiEngine(ctx, { options, hsm: deps.hsmKeys?.ecKeys?.() }));
  engines.set('userpass', (ctx) => createUserpassAuthEngine(ctx));
  engines.set('oidc', (ctx) => createOidcAuthEngine(ctx));
  let coreRef: (() => Core) | undefined;
  // Identity lives under sys/identity/ (not a mount's view): the core resolves entities without a mount.
  const identity = new IdentityStore(() => new StorageView(coreRef!().barrier, 'sys/identity/'));
  const mountByAccessor = (accessor: string) => {
    const m = coreRef!().mounts.all.find((x) => x.accessor === accessor && x.path.startsWith('auth/'));
    return m && { accessor: m.accessor, type: m.type, path: m.path };
  };
  // TOTP secrets, WebAuthn credentials and login enforcements: inside the barrier under sys/mfa/.
  const mfaStore = new MfaStore(() => new StorageView(coreRef!().barrier, 'sys/mfa/'));
  const mfaLog = deps.log.child({ component: 'mfa' });
  const webauthn = new Webauthn({ store: mfaStore, now: () => Date.now(), debug: (reason) => mfaLog.debug({ reason }, 'webauthn ceremony refused') });
  const mfa = new MfaGate<CreateTokenOptions>({
    store: mfaStore,
    webauthn,
    now: () => Date.now(),
    groupIdsOf: (id) => identity.groupIdsOf(id),
    issue: async (opts) => {
      const c = coreRef!();
      const { token, entry } = await c.tokens.create({ ...opts, mfaAt: Math.floor(Date.now() / 1000) });
      return authBlock(token, entry, await c.effectivePolicies(entry));
    },
    stepUp: (accessor) => stepUpToken(coreRef!(), accessor),
  });
  // Response wrapping and quorum approval: inside the barrier under sys/wrapping/ and sys/control-group/.
  const wraps = new WrapStore(() => new StorageView(coreRef!().barrier, 'sys/wrapping/'), () => Date.now());
  const controlGroups = new ControlGroups({
    storage: () => new StorageView(coreRef!().barrier, 'sys/control-group/'),
    wraps,
    identity,
    now: () => Date.now(),
    execute: (r, accessor) => coreRef!().executeApproved(r, accessor, randomUUID()),
  });
  engines.set('identity', () => createIdentityEngine(identity, mountByAccessor, (r) => {
    const entityExists = (id: string) => identity.entity(id);
    registerMfaRoutes(r, { store: mfaStore, entityExists });
    registerWebauthnRoutes(r, { store: mfaStore, webauthn, entityExists });
  }));
  const policies = new PolicyStore(() => coreRef!().barrier);
  const audit = new AuditManager(() => coreRef!().barrier, deps.auditSpoolDir, deps.log);
  return {
    audit,
    onReload: () => {
      policies.invalidate();
      identity.invalidate();
      mfaStore.invalidate();
    },
    identity: {
      resolve: (m, name, meta, groups) => identity.resolve(m, name, meta, groups),
      policies: (id) => identity.policies(id),
      loginGate: (m, entityId, opts) => mfa.gate(m, entityId, opts),
    },
    governance: {
      defer: (r) => controlGroups.defer(r),
      wrap: async (res, ttl, path) => (await wraps.create({ ttl, creationPath: path, kind: 'response', response: res })).info,
      // Requests first: an expired one takes its wrapping token with it.
      sweep: async () => (await controlGroups.sweepExpired()) + (await wraps.sweepExpired()),
    },
    extensions: [policies, audit, mfa, controlGroups, new AuthMounts(() => coreRef!(), ['kubernetes', 'cert', 'userpass', 'oidc'])],
    defaultMounts: [
      { path: 'secret/', type: 'kv', options: { version: '2' } },
      { path: 'transit/', type: 'transit' },
      { path: 'identity/', type: 'identity' },
    ],
    authorizer: (core) => {
      coreRef = core;
      return (names) => policies.authorizer(names);
    },
  };
}

/**
 * What a step-up of the token `accessor` issues: a child of it (revoked with it, never outliving it)
 * for the same entity, with its policies, metadata, display name and login path, and at most its
 * remaining TTL even across renewals. Limited-use and root tokens do not step up.
 */
async function stepUpToken(c: Core, accessor: string): Promise<CreateTokenOptions> {
  const e = await c.tokens.lookupAccessor(accessor);
  const now = Math.floor(Date.now() / 1000);
  if (!e?.entityId || (e.expireAt > 0 && e.expireAt <= now)) throw new ArcaError('ERR_MFA_INVALID', 'the token that asked for step-up is no longer valid: log in again');
  if (e.policies.includes('root')) throw new ArcaError('ERR_INVALID_REQUEST', 'a root token cannot step up');
  if (e.numUses > 0) throw new ArcaError('ERR_INVALID_REQUEST', 'a limited-use token cannot step up: log in again with a token without num_uses');
  const remaining = e.expireAt > 0 ? e.expireAt - now : 0;
  return {
    policies: e.policies, parent: e, entityId: e.entityId, displayName: e.displayName, meta: e.meta, path: e.path, renewable: e.renewable,
    ...(remaining > 0 ? { ttl: remaining, explicitMaxTtl: remaining } : {}), relaxed: true,
  };
}
