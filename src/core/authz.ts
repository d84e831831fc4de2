/**
 * Authorization seam between the core and the policy module: the core asks for the capabilities a
 * set of policies grants on a path. Default deny: with no policy engine wired, only root passes.
 */
import type { Operation } from '../logical/index.ts';
import { type Capability, DEFAULT_ROOT_PATHS, matchesRootPath } from '../policy/index.ts';

export type { Capability };


export interface Authorizer {
  capabilities(path: string): ReadonlySet<string>;
  /** Root-protected path (needs `sudo` too); defaults to the policy module's one list, DEFAULT_ROOT_PATHS. */
  isRootPath?(path: string): boolean;
  /** The full decision including parameter constraints (allowed/denied/required_parameters). */
  allows?(path: string, op: Operation, data?: Readonly<Record<string, unknown>>): boolean;
}

export const ROOT_AUTHORIZER: Authorizer = {
  capabilities: () => new Set(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo']),
};

export const DENY_ALL: Authorizer = { capabilities: () => new Set() };

export function capabilityFor(op: Operation): Capability {
  return op;
}

/** Paths reachable without a token. */
export const UNAUTHENTICATED_PATHS: RegExp[] = [/^auth\/[^/]+(\/[^/]+)*\/login$/];

export function allows(a: Authorizer, path: string, op: Operation, data?: Readonly<Record<string, unknown>>): boolean {
  if (a.allows) return a.allows(path, op, data);
  const caps = a.capabilities(path);
  if (caps.has('deny')) return false;
  if (!caps.has(capabilityFor(op))) return false;
  const root = a.isRootPath ? a.isRootPath(path) : matchesRootPath(path, DEFAULT_ROOT_PATHS);
  if (root && !caps.has('sudo')) return false;
  return true;
}
