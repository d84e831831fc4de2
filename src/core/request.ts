import type { Operation } from '../engines/index.ts';

/** What the HTTP (or any other) adapter hands the core. */
export interface LogicalRequest {
  id: string;
  /** `write` is resolved to create or update by the target's existence. */
  operation: Exclude<Operation, 'create' | 'update'> | 'write';
  /** Logical path without the `/v1/` prefix, e.g. `secret/data/app`. */
  path: string;
  data: Record<string, unknown>;
  token: string | undefined;
  clientAddr: string;
  /** TLS client certificate chain (DER, leaf first) for login paths; see EngineRequest.tlsClientCerts. */
  tlsClientCerts?: Uint8Array[] | undefined;
  /** `X-Vault-Wrap-TTL` in seconds: answer with a single-use wrapping token instead of the response. */
  wrapTtl?: number;
}

/** What the core answers; the adapter renders Vault's envelope. */
export interface LogicalResponse {
  status: number;
  data?: Record<string, unknown> | null;
  warnings?: string[];
  auth?: Record<string, unknown> | null;
  mountType: string;
  /** Vault copies `data` to the top level for some sys routes. */
  injectTop?: boolean;
  /** A body served as is, outside the envelope (Vault's raw responses, e.g. `sys/metrics`). */
  raw?: { contentType: string; body: string | Uint8Array };
  /** Vault's `wrap_info` (response wrapping, control-group requests). */
  wrapInfo?: Record<string, unknown>;
}
