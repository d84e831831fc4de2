/**
 * Which engines this build provides, the mounts a fresh server gets, and the policy/audit wiring.
 * Kept apart from assemble.ts so adding an engine is a one-line change here.
 */
import type { Core, EngineRegistry, Authorizer, AuditSink } from '../core/index.ts';
import type { SystemExtension } from '../core/index.ts';
import type { Logger } from '../log/index.ts';

export interface EngineWiring {
  extensions: SystemExtension[];
  defaultMounts: { path: string; type: string; options?: Record<string, string> }[];
  authorizer?: (core: () => Core) => (policies: string[]) => Promise<Authorizer>;
  audit?: AuditSink;
}

export async function registerEngines(_engines: EngineRegistry, _log: Logger): Promise<EngineWiring> {
  return { extensions: [], defaultMounts: [] };
}
