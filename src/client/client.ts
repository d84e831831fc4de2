/**
 * A small typed HTTP client for Arca's (Vault-shaped) API, used by the CLI, the agent, the injector
 * and the KMS plugin. Settings: ARCA_ADDR (default http://127.0.0.1:8200), ARCA_TOKEN, ARCA_CACERT.
 * Errors become ArcaErrors carrying the server's stable code.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ArcaError, ERROR_CODES, type ErrorCode } from '../errors/index.ts';

export interface ClientOptions {
  addr?: string;
  token?: string;
  caCert?: string;
  timeoutMs?: number;
  /** TLS client certificate and key files (auth/cert login); re-read by reloadClientCert(). */
  clientCert?: string;
  clientKey?: string;
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  /** The body's bytes as received (a raw answer that is not JSON, e.g. a storage snapshot). */
  bytes?: Buffer;
}

export class ArcaClient {
  readonly addr: URL;
  token: string | undefined;
  #agent: http.Agent;
  readonly #timeout: number;
  readonly #ca: Buffer | undefined;
  readonly #clientFiles: { cert: string; key: string } | undefined;

  constructor(o: ClientOptions = {}) {
    this.addr = new URL(o.addr ?? process.env['ARCA_ADDR'] ?? process.env['VAULT_ADDR'] ?? 'http://127.0.0.1:8200');
    this.token = o.token ?? process.env['ARCA_TOKEN'] ?? process.env['VAULT_TOKEN'];
    const ca = o.caCert ?? process.env['ARCA_CACERT'];
    this.#ca = ca ? readFileSync(ca) : undefined;
    this.#clientFiles = o.clientCert && o.clientKey ? { cert: o.clientCert, key: o.clientKey } : undefined;
    this.#agent = this.#makeAgent();
    this.#timeout = o.timeoutMs ?? 30_000;
  }

  /** Raw call: returns status and parsed JSON body (or {} for 204), never throws on HTTP status. */
  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const url = new URL(`/v1/${path.replace(/^\/+/, '')}`, this.addr);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const h: Record<string, string> = { ...headers };
    if (this.token) h['x-vault-token'] = this.token;
    if (payload) {
      h['content-type'] ??= 'application/json';
      h['content-length'] = String(payload.length);
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers: h, agent: this.#agent, timeout: this.#timeout }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          // A binary answer is not decoded as text.
          const text = /^application\/(gzip|octet-stream)/.test(String(res.headers['content-type'] ?? '')) ? '' : bytes.toString('utf8');
          let parsed: unknown = {};
          if (text) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = { text };
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as Record<string, unknown>, bytes });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new ArcaError('ERR_SERVER_UNREACHABLE', `request to ${this.addr.origin} timed out`)));
      req.on('error', (err) => {
        if (err instanceof ArcaError) reject(err);
        else reject(new ArcaError('ERR_SERVER_UNREACHABLE', `cannot reach Arca at ${this.addr.origin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Call that throws a coded ArcaError for any status ≥ 400. */
  async call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse> {
    const r = await this.request(method, path, body, headers);
    if (r.status >= 400) throw toClientError(r);
    return r;
  }

  read(path: string) {
    return this.call('GET', path);
  }
  write(path: string, body: unknown = {}) {
    return this.call('PUT', path, body);
  }
  list(path: string) {
    return this.call('GET', `${path.replace(/\/?$/, '/')}?list=true`);
  }
  delete(path: string) {
    return this.call('DELETE', path);
  }

  close(): void {
    this.#agent.destroy();
  }

  /** Re-reads the client certificate files (after a renewal); new connections present the new one. */
  reloadClientCert(): void {
    const old = this.#agent;
    this.#agent = this.#makeAgent();
    old.destroy();
  }

  #makeAgent(): http.Agent {
    if (this.addr.protocol !== 'https:') return new http.Agent({ keepAlive: true });
    const f = this.#clientFiles;
    return new https.Agent({ keepAlive: true, ...(this.#ca ? { ca: this.#ca } : {}), ...(f ? { cert: readFileSync(f.cert), key: readFileSync(f.key) } : {}) });
  }
}

export function toClientError(r: ApiResponse): ArcaError {
  const b = r.body as { errors?: unknown[]; error?: { code?: string; message?: string } };
  const code = b.error?.code && (ERROR_CODES as readonly string[]).includes(b.error.code) ? (b.error.code as ErrorCode) : statusCode(r.status);
  const msg = b.error?.message ?? (Array.isArray(b.errors) && b.errors.length ? String(b.errors[0]) : `HTTP ${r.status}`);
  return new ArcaError(code, msg.replace(/^\d+ errors? occurred:\n\t\* /, '').replace(/\n\t\* /g, '; ').trim(), { details: { status: r.status } });
}

function statusCode(s: number): ErrorCode {
  if (s === 403) return 'ERR_PERMISSION_DENIED';
  if (s === 404) return 'ERR_NOT_FOUND';
  if (s === 503) return 'ERR_SEALED';
  if (s === 429) return 'ERR_RATE_LIMITED';
  if (s >= 500) return 'ERR_INTERNAL';
  return 'ERR_INVALID_REQUEST';
}
