export { CAPABILITIES, type Capability, isCapability, type PathRule, type Policy, type RuleKind, type ParameterConstraints } from './types.ts';
export { parsePolicy, detectFormat, MAX_POLICY_BYTES } from './parse.ts';
export { parseHcl, type HclItem, type HclValue } from './hcl.ts';
export { Acl, type AclDecision, type AclOptions, capabilityNames, operationCapability } from './acl.ts';
export { DEFAULT_POLICY_NAME, DEFAULT_POLICY_TEXT, ROOT_POLICY, ROOT_POLICY_NAME } from './builtin.ts';
export { DEFAULT_ROOT_PATHS, matchesRootPath } from './root-paths.ts';
export { FailureLimiter, type FailureLimiterOptions, type LimitState } from './rate-limit.ts';
export { type ControlGroup, type ControlGroupFactor, parseControlGroup, DEFAULT_CONTROL_GROUP_TTL, MAX_APPROVALS } from './control-group.ts';
