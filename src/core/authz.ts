/**
 * Authorization seam between the core and the policy module: the core asks for the capabilities a
 * set of policies grants on a path. Default deny: with no policy engine wired, only root passes.
 */
import type { Operation } from '../logical/index.ts';
import { type Capability, type ControlGroup, DEFAULT_ROOT_PATHS, matchesRootPath } from '../policy/index.ts';

export type { Capability };


export interface Authorizer {
  capabilities(path: string): ReadonlySet<string>;
  /** Root-protected path (needs `sudo` too); defaults to the policy module's one list, DEFAULT_ROOT_PATHS. */
  isRootPath?(path: string): boolean;
  /** The full decision including parameter constraints (allowed/denied/required_parameters). */
  allows?(path: string, op: Operation, data?: Readonly<Record<string, unknown>>): boolean;
  /** Present only when some policy has a control group: the quorum an allowed operation still needs. */
  controlGroup?(path: string, op: Operation): ControlGroup | undefined;
}

const ROOT_CAPS: ReadonlySet<string> = new Set(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo']);
const NO_CAPS: ReadonlySet<string> = new Set();

/** Root holds every capability including `sudo`: every operation is allowed, root paths included. */
export const ROOT_AUTHORIZER: Authorizer = Object.freeze({
  capabilities: () => ROOT_CAPS,
  allows: (_path: string, op: Operation) => ROOT_CAPS.has(op),
});

export const DENY_ALL: Authorizer = Object.freeze({ capabilities: () => NO_CAPS });

export function capabilityFor(op: Operation): Capability {
  return op;
}

/** Paths outside auth mounts reachable without a token (core routes that authenticate by their own secret). */
export const UNAUTHENTICATED_PATHS: RegExp[] = [/^sys\/mfa\/validate$/, /^sys\/wrapping\/(lookup|unwrap|rewrap)$/, /^sys\/generate-root\/(attempt|update)$/, /^sys\/rekey(-recovery-key)?\/(init|update)$/];

/**
 * Whether a request may run without a token: an auth mount's `login` (userpass: `login/<name>`),
 * decided relative to the mount that serves the path — a pattern on the full path would also open
 * `auth/<m>/role/login` or `auth/<m>/users/login` (a role or user named "login").
 */
export function isUnauthenticated(path: string, mount: { path: string; type: string } | undefined): boolean {
  if (path.startsWith('sys/') && UNAUTHENTICATED_PATHS.some((r) => r.test(path))) return true;
  if (!mount?.path.startsWith('auth/')) return false;
  const rel = path.slice(mount.path.length);
  if (rel === 'login') return true;
  if (mount.type === 'userpass') return /^login\/[^/]+$/.test(rel);
  return mount.type === 'oidc' && (rel === 'oidc/auth_url' || rel === 'oidc/callback');
}

/** One `can` function per authorizer (engines check sub-paths with it), instead of a closure per request. */
const canOf = new WeakMap<Authorizer, (full: string, cap: 'read' | 'list') => boolean>();

export function canFunction(a: Authorizer): (full: string, cap: 'read' | 'list') => boolean {
  let f = canOf.get(a);
  if (!f) {
    f = (full, cap) => allows(a, full, cap);
    canOf.set(a, f);
  }
  return f;
}

export function allows(a: Authorizer, path: string, op: Operation, data?: Readonly<Record<string, unknown>>): boolean {
  if (a.allows) return a.allows(path, op, data);
  const caps = a.capabilities(path);
  if (caps.has('deny')) return false;
  if (!caps.has(capabilityFor(op))) return false;
  const root = a.isRootPath ? a.isRootPath(path) : matchesRootPath(path, DEFAULT_ROOT_PATHS);
  if (root && !caps.has('sudo')) return false;
  return true;
}
