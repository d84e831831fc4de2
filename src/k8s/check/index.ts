export { CATALOGUE, runChecks } from './catalogue.ts';
export type { CheckDef, Verdict } from './check-def.ts';
export { type CheckContext, type LoadOptions, loadContext, parseListeners } from './context.ts';
export { type Host, type MemoryFile, memoryHost, realHost } from './host.ts';
export { parseFlags, Flags, APISERVER_FLAGS, KUBELET_FLAGS, ETCD_FLAGS } from './flags.ts';
export { toJson, toJunit, toTable } from './render.ts';
export { type Finding, type Severity, type Status, EXIT_BY_SEVERITY, exitCodeFor, worstFailure } from './types.ts';
export { liveChecks, scanVerdict, type LiveOptions } from './live.ts';
export { argsFromEnvFile } from './kubelet.ts';
