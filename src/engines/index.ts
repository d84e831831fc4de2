export { checkRoleName, ignoredFieldsResponse, ignoredFieldsWarning, withIgnoredFields, MAX_INT, outOfRange, parseField, parseFields, vBool, vDuration, vDurationIn, vInt, vIntIn, vIntList, vIntListIn, vStringList, withoutNulls } from './fields.ts';
export { addrInCidrs, validCidr } from './cidr.ts';
export { globMatch } from './glob.ts';
export { EngineRouter, type Handler, type Handlers } from './router.ts';
export type { AuthContext, AuthIssue, Engine, EngineContext, EngineFactory, EngineRequest, EngineResponse, Operation, RouteInfo } from './types.ts';
