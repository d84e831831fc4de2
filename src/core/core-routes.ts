/**
 * Endpoints the core serves itself, inside the one pipeline (token → ACL → audit request → handler →
 * audit response): `sys/seal`, the key holders' (key-holders.ts), `sys/wrapping/wrap`, and those an
 * adapter contributes (`sys/metrics`, `sys/step-down`, `sys/ha-status`).
 * Nothing here authorizes or audits: Core.handle does, exactly as for engine routes.
 */
import type { EngineRequest, Operation } from '../engines/index.ts';
import type { LogicalResponse } from './request.ts';

export interface CoreRouteResult {
  status?: number;
  data?: Record<string, unknown> | null;
  /**
   * A body sent as is, outside the envelope (Vault's raw sys answers). With it, `data` is only what
   * the audit entry records (generate-root and rekey put their progress there, never their secrets).
   */
  raw?: LogicalResponse['raw'];
  auth?: Record<string, unknown>;
  /** Runs after the response is audited (sealing stops the audit devices). */
  after?: () => Promise<void>;
}

export type CoreRouteHandler = (req: EngineRequest) => Promise<CoreRouteResult>;

export interface CoreRoute {
  /** Served by this replica even as an HA standby: it acts on this process, so it is never forwarded. */
  local: boolean;
  handlers: Partial<Record<Operation, CoreRouteHandler>>;
  /** Field names the audit HMACs in this route's entries instead of the system engine's (`*`: every leaf). */
  sensitive?: readonly string[];
}

export class CoreRoutes {
  readonly #routes = new Map<string, CoreRoute>();

  /** `path` is the full logical path, e.g. `sys/seal`; a later registration replaces an earlier one. */
  set(path: string, route: CoreRoute): void {
    this.#routes.set(path, route);
  }

  get(path: string): CoreRoute | undefined {
    return this.#routes.get(path);
  }

  /** Whether `path` is served by this replica whatever its HA role (the HTTP adapter does not forward it). */
  isLocal(path: string): boolean {
    return this.#routes.get(path)?.local === true;
  }

  /** Every registered path with its operations (route enumeration for the authorization matrix). */
  list(): { path: string; operations: Operation[] }[] {
    return [...this.#routes].map(([path, r]) => ({ path, operations: Object.keys(r.handlers) as Operation[] }));
  }
}

/** The handler for `op`, with Vault's create/update equivalence. */
export function routeHandler(r: CoreRoute, op: Operation): CoreRouteHandler | undefined {
  return r.handlers[op] ?? (op === 'create' ? r.handlers.update : op === 'update' ? r.handlers.create : undefined);
}
