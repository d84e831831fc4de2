export { Core, authBlock, type CoreDeps, type IdentityHooks, type LoginMount, type GovernanceHooks, type DeferredRequest, type SealState, type AuditSink, type AuditRecord } from './core.ts';
export type { LogicalRequest, LogicalResponse } from './request.ts';
export type { CoreRoute, CoreRouteHandler, CoreRouteResult } from './core-routes.ts';
export type { EngineRegistry, CoreEngineFactory } from './engine-registry.ts';
export { MountTable, type MountEntry } from './mounts.ts';
export { TokenStore, type TokenEntry, type CreateTokenOptions } from './tokens.ts';
export { type Authorizer, allows, ROOT_AUTHORIZER, DENY_ALL } from './authz.ts';
export { createSystemEngine, type SystemExtension } from './builtin/system.ts';
export { createTokenEngine } from './builtin/token.ts';
