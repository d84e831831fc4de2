/**
 * `arca agent`: runs in pods, logs in (Kubernetes or token file), renders KV v2 secrets into files
 * (init, sidecar) or into an app's environment (exec). Reaches the server only through client/.
 * See docs/agent.md.
 */
export { Agent, type AgentStatus } from './agent.ts';
export { backoffDelay, isTransient } from './backoff.ts';
export { type AgentConfig, type AgentConfigInput, buildConfig, parseEnvFlag, parseSecretFlag } from './config.ts';
export { collectEnv, runChild } from './exec.ts';
export { startHealthServer } from './health.ts';
export { onChangeAction, pidsByName } from './on-change.ts';
export { Session } from './session.ts';
export { isCurrent, writeAtomic } from './writer.ts';
