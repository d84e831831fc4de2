export type { Engine, EngineContext, EngineFactory, EngineRequest, EngineResponse, AuthContext, AuthIssue, Operation, RouteInfo } from './types.ts';
export { EngineRouter, type Handler, type Handlers } from './router.ts';
export { vBool, vInt, vDuration, vStringList, vIntList, parseFields, parseDurationSeconds } from './fields.ts';
