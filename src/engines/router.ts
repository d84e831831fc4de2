import { ArcaError } from '../errors/index.ts';
import type { EngineRequest, EngineResponse, Operation, RouteInfo } from './types.ts';

/**
 * A tiny path router for engines. Patterns are segments; `:name` matches one segment,
 * `:name*` matches the rest of the path (one or more segments, may end with '/').
 *   router.add('data/:path*', { read, create, update, delete, patch })
 */
export type Handler = (req: EngineRequest, params: Record<string, string>) => Promise<EngineResponse | undefined>;
export type Handlers = Partial<Record<Operation, Handler>>;

interface Route {
  parts: string[];
  handlers: Handlers;
}

export class EngineRouter {
  readonly #routes: Route[] = [];

  add(pattern: string, handlers: Handlers): this {
    this.#routes.push({ parts: pattern.split('/'), handlers });
    return this;
  }

  /** The registered patterns and their operations, in registration order. */
  routes(): RouteInfo[] {
    return this.#routes.map((r) => ({ pattern: r.parts.join('/'), operations: Object.keys(r.handlers) as Operation[] }));
  }

  match(path: string): { handlers: Handlers; params: Record<string, string> } | undefined {
    const segs = path.split('/');
    for (const r of this.#routes) {
      const params = matchParts(r.parts, segs);
      if (params) return { handlers: r.handlers, params };
    }
    return undefined;
  }

  async dispatch(req: EngineRequest): Promise<EngineResponse | undefined> {
    const m = this.match(req.path);
    if (!m) throw new ArcaError('ERR_NOT_FOUND', `no handler for route "${req.mountPoint}${req.path}". route entry not found.`);
    // Vault treats create and update alike unless a path distinguishes them.
    const h = m.handlers[req.operation] ?? (req.operation === 'create' ? m.handlers.update : undefined)
      ?? (req.operation === 'update' ? m.handlers.create : undefined);
    if (!h) throw new ArcaError('ERR_UNSUPPORTED_OPERATION', 'unsupported operation');
    return h(req, m.params);
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith(':') && p.endsWith('*')) {
      const rest = segs.slice(i).join('/');
      if (rest === '') return undefined;
      params[p.slice(1, -1)] = rest;
      return params;
    }
    const s = segs[i];
    if (s === undefined) return undefined;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) {
      return undefined;
    }
  }
  return segs.length === parts.length ? params : undefined;
}
