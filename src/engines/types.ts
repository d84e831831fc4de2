import type { Logger } from '../log/index.ts';
import type { Storage } from '../storage/index.ts';
import type { TokenType } from './token-fields.ts';

import type { Operation } from '../logical/index.ts';

export type { Operation };

/** Who is calling, as established by the core's token check (never set by an engine). */
export interface AuthContext {
  /** Token accessor (safe to log); the token itself never reaches engines. */
  accessor: string;
  policies: string[];
  displayName: string;
  /** True for a token holding the `root` policy. */
  root: boolean;
  /** Service-account identity etc. set by auth methods. */
  metadata: Record<string, string>;
  entityId: string;
  /** Unix seconds of the MFA login behind this token, if any (step-up checks). */
  mfaAt?: number;
}

export interface EngineRequest {
  /** Request id (UUID) shared with logs and audit. */
  id: string;
  operation: Operation;
  /** Path relative to the engine's mount, without leading '/', e.g. `data/app/db` under `secret/`. */
  path: string;
  /** The mount point with trailing '/', e.g. `secret/`. */
  mountPoint: string;
  /** JSON body (writes) or query parameters (reads, lists, deletes). Parse with zod. */
  data: Record<string, unknown>;
  auth: AuthContext | undefined;
  clientAddr: string;
  /**
   * The client certificate chain (DER, leaf first) from the TLS handshake of the server's own
   * listener, set for login paths only: undefined = not a TLS connection, [] = TLS without one.
   */
  tlsClientCerts?: Uint8Array[] | undefined;
  /**
   * Asks the core whether the caller's policies grant `capability` on a full logical path
   * (e.g. `secret/metadata/app/db`). Used by endpoints that filter results, like KV search.
   */
  can: (fullPath: string, capability: 'read' | 'list') => boolean;
  /** The response-wrapping TTL the caller asked for (X-Vault-Wrap-TTL), in seconds; the core wraps the answer. */
  wrapTtl?: number;
}

/** Token material an auth method asks the core to issue (the core creates and stores the token). */
export interface AuthIssue {
  policies: string[];
  displayName: string;
  ttlSeconds: number;
  metadata: Record<string, string>;
  orphan: boolean;
  /** Caps the TTL renewals can reach (0 or absent = no cap). */
  explicitMaxTtlSeconds?: number;
  /** Uses before the token is revoked (0 or absent = unlimited). */
  numUses?: number;
  /** A periodic token: every renewal resets its TTL to this (0 or absent = not periodic). */
  periodSeconds?: number;
  /**
   * The type the role asks for, in Vault's spellings (absent = `default`). The auth mount's own
   * `token_type` decides with it whether the login gets a batch token (core/login-token.ts).
   */
  tokenType?: TokenType;
  /** `token_bound_cidrs`: the token is refused from any other client address. */
  boundCidrs?: string[];
  /** Who logged in, as this auth mount names them: the core resolves it to an identity entity. */
  alias?: {
    name: string;
    metadata?: Record<string, string>;
    /** The provider's group names (OIDC groups claim): membership of the external identity groups of those names. */
    groups?: string[];
  };
}

export interface EngineResponse {
  /** Defaults: 200 when `data` or `warnings` is set, else 204. */
  status?: number;
  data?: Record<string, unknown> | null;
  warnings?: string[];
  /** Already-issued auth block (token engine) in Vault's `auth` shape. */
  auth?: Record<string, unknown>;
  /** An auth method's request to issue a token. */
  issue?: AuthIssue;
  /** A body served as is, outside the envelope (pki's DER/PEM certificates and CRLs). */
  raw?: { contentType: string; body: string | Uint8Array };
  /**
   * What the audit entry records instead of `data`, when `data` repeats what the audit log already
   * holds (sys/audit-log's entries: audited again, each read would hold every earlier read's answer).
   */
  auditData?: Record<string, unknown>;
}

export interface EngineContext {
  /** Barrier-encrypted storage confined to this mount. */
  storage: Storage;
  log: Logger;
  now: () => number;
  /** Whether this replica is the active one (background jobs run only there). */
  isActive: () => boolean;
}

/** One route an engine serves: its pattern (EngineRouter syntax, relative to the mount) and its operations. */
export interface RouteInfo {
  pattern: string;
  operations: Operation[];
}

export interface Engine {
  /** Mount type as Vault names it: `kv`, `transit`, `token`, `kubernetes`, `system`. */
  readonly type: string;
  /** Answers undefined for "no content" (204). Throw ArcaError for failures. */
  handle(req: EngineRequest): Promise<EngineResponse | undefined>;
  /** Whether the target of a write already exists: decides create vs update for the ACL check. */
  exists?(req: EngineRequest): Promise<boolean>;
  /** Request/response field names whose values the audit log must HMAC (besides the global list). */
  readonly sensitiveFields?: readonly string[];
  /** Every route this engine serves (the authorization-matrix test enumerates them, so none is forgotten). */
  routes?(): readonly RouteInfo[];
  /** Periodic work (rotation, cleanup); called by the core on the active replica only. */
  tick?(): Promise<void>;
  /**
   * What restoring a snapshot would lose for good, given this mount's storage as the snapshot has it
   * (read-only): one line each, naming no secret (transit: key versions that data may still be
   * encrypted under). The core refuses such a restore unless it is forced.
   */
  restoreLosses?(incoming: Storage): Promise<string[]>;
  close?(): Promise<void>;
}

export type EngineFactory = (ctx: EngineContext, options: Record<string, string>) => Promise<Engine> | Engine;
