/**
 * Which engines this build provides, the mounts a fresh server gets, and the policy wiring.
 * Kept apart from assemble.ts so adding an engine is a one-line change here.
 */
import type { Core, EngineRegistry, Authorizer, AuditSink, SystemExtension } from '../core/index.ts';
import { AuditManager } from '../core/builtin/audit.ts';
import { AuthMounts } from '../core/builtin/auth-mounts.ts';
import { PolicyStore } from '../core/builtin/policies.ts';
import type { Logger } from '../log/index.ts';
import { createKvEngine } from '../engines/kv/index.ts';
import { createTransitEngine } from '../engines/transit/index.ts';
import { createKubernetesAuthEngine } from '../engines/auth-kubernetes/index.ts';
import { createPkiEngine } from '../engines/pki/index.ts';
import { createCertAuthEngine } from '../engines/auth-cert/index.ts';
import type { KeyBackend } from '../keys/backend.ts';
import { SoftwareKeyBackend } from '../keys/software.ts';

export interface EngineWiring {
  extensions: SystemExtension[];
  defaultMounts: { path: string; type: string; options?: Record<string, string> }[];
  authorizer?: (core: () => Core) => (policies: string[]) => Promise<Authorizer>;
  audit?: AuditSink;
  onReload?: () => void;
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
  let coreRef: (() => Core) | undefined;
  const policies = new PolicyStore(() => coreRef!().barrier);
  const audit = new AuditManager(() => coreRef!().barrier, deps.auditSpoolDir, deps.log);
  return {
    audit,
    onReload: () => policies.invalidate(),
    extensions: [policies, audit, new AuthMounts(() => coreRef!(), ['kubernetes', 'cert'])],
    defaultMounts: [
      { path: 'secret/', type: 'kv', options: { version: '2' } },
      { path: 'transit/', type: 'transit' },
    ],
    authorizer: (core) => {
      coreRef = core;
      return (names) => policies.authorizer(names);
    },
  };
}
