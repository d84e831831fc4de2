import type { Engine, EngineContext } from '../engines/index.ts';
import type { Core } from './core.ts';

/** Mount type → engine factory. `core` is passed for built-ins (sys, token) that manage the core itself. */
export type CoreEngineFactory = (ctx: EngineContext, options: Record<string, string>, core: Core) => Promise<Engine> | Engine;
export type EngineRegistry = Map<string, CoreEngineFactory>;
