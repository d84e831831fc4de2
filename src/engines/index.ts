export type { Engine, EngineContext, EngineFactory, EngineRequest, EngineResponse, AuthContext, AuthIssue, Operation, RouteInfo } from './types.ts';
export { EngineRouter, type Handler, type Handlers } from './router.ts';
export { vBool, vInt, vIntIn, vDuration, vDurationIn, vStringList, vIntList, vIntListIn, parseFields, parseField, MAX_INT, outOfRange } from './fields.ts';
