/**
 * The Arca side of one Mount call: one login with the pod's token, then reads with the token it
 * returns. HTTP clients (keep-alive agents) are shared per (address, CA) across calls, but they
 * carry no token of their own: every request names the token of its call, so nothing from one pod
 * can reach another pod's call, and no static credential (ARCA_TOKEN) is ever used.
 */
import { ArcaClient, type ApiResponse, toClientError } from '../../client/index.ts';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import { LoginCache } from './login-cache.ts';
import type { MountConfig } from './params.ts';

const MAX_CLIENTS = 32;

export class ClientPool {
  readonly #clients = new Map<string, ArcaClient>();
  constructor(
    readonly defaults: { addr?: string; caCert?: string; timeoutMs: number },
  ) {}

  get(addr: string | undefined, caCert: string | undefined): ArcaClient {
    const a = addr ?? this.defaults.addr;
    if (!a) throw new ArcaError('ERR_CSI_PARAMETER_INVALID', 'parameter arcaAddress is required (the provider has no --arca-addr default)');
    const ca = caCert ?? this.defaults.caCert;
    const k = `${a}\0${ca ?? ''}`;
    let c = this.#clients.get(k);
    if (!c) {
      if (this.#clients.size >= MAX_CLIENTS) this.closeAll();
      try {
        c = new ArcaClient({ addr: a, timeoutMs: this.defaults.timeoutMs, ...(ca ? { caCert: ca } : {}) });
      } catch (err) {
        throw new ArcaError('ERR_CSI_PARAMETER_INVALID', `cannot use the CA file named by arcaCACertPath: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      }
      // The client picks up ARCA_TOKEN from the environment; the provider must never use it.
      c.token = undefined;
      this.#clients.set(k, c);
    }
    return c;
  }

  closeAll(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

export class MountSession {
  #token: string | undefined;
  /** The token came from (or went into) the cache: it outlives the call, so it is not revoked. */
  #shared = false;
  readonly #key: string;
  constructor(
    readonly client: ArcaClient,
    readonly cfg: MountConfig,
    readonly log: Logger,
    readonly cache: LoginCache | undefined,
  ) {
    this.#key = LoginCache.key(client.addr.origin, cfg.authMount, cfg.roleName, cfg.token.reveal());
  }

  #fromCache = false;
  /** A batch token (the role's token_type): it cannot be revoked, it just expires. */
  #batch = false;

  /** True when this call's token came from the cache (a refusal may mean it was revoked). */
  get cached(): boolean {
    return this.#fromCache;
  }

  /** Uses a cached token of this pod token and role, or POSTs auth/<authMount>/login {role, jwt}. */
  async login(): Promise<void> {
    const hit = this.cache?.get(this.#key);
    if (hit) {
      this.#token = hit;
      this.#shared = true;
      this.#fromCache = true;
      return;
    }
    const { authMount, roleName } = this.cfg;
    const r = await this.client.request('POST', `auth/${authMount}/login`, { role: roleName, jwt: this.cfg.token.reveal() });
    const auth = (r.body as { auth?: { client_token?: unknown; lease_duration?: unknown; token_type?: unknown } }).auth;
    const token = auth?.client_token;
    if (r.status >= 400 || typeof token !== 'string') {
      const e = r.status >= 400 ? toClientError(r) : new ArcaError('ERR_INTERNAL', 'login answered without a token');
      throw new ArcaError(e.code, `login to auth/${authMount} with role ${roleName} was refused: ${e.message}`, { cause: e });
    }
    this.#token = token;
    this.#batch = auth?.token_type === 'batch';
    const lease = typeof auth?.lease_duration === 'number' ? auth.lease_duration : 0;
    this.#shared = this.cache?.set(this.#key, token, lease, this.cfg.token.reveal()) ?? false;
  }

  /** Forgets a cached token the server refused, so the retry logs in again. */
  forget(): void {
    this.cache?.delete(this.#key);
    this.#token = undefined;
    this.#shared = false;
    this.#fromCache = false;
  }

  /** GET one API path with this call's token; throws the server's code with the object named. */
  async read(apiPath: string, objectName: string): Promise<ApiResponse> {
    if (!this.#token) throw new ArcaError('ERR_INTERNAL', 'read before login');
    let r: ApiResponse;
    try {
      r = await this.client.request('GET', apiPath, undefined, { 'x-vault-token': this.#token });
    } catch (err) {
      if (isArcaError(err)) throw new ArcaError(err.code, `object ${objectName}: ${err.message}`);
      throw err;
    }
    if (r.status >= 400) {
      const e = toClientError(r);
      const why = e.code === 'ERR_PERMISSION_DENIED' ? 'the role\'s policies do not allow reading it' : e.code === 'ERR_NOT_FOUND' ? 'no secret there' : e.message;
      throw new ArcaError(e.code, `object ${objectName}: reading ${apiPath.split('?')[0]} failed: ${why}`);
    }
    return r;
  }

  /**
   * Revokes a token that was not cached, so mounts do not pile up live tokens (a rotation republish every 2
   * minutes per pod would otherwise leave one per republish until its TTL). Best effort. A batch token is
   * left to expire: Vault and Arca refuse to revoke one, and it is stored nowhere.
   */
  async end(): Promise<void> {
    const t = this.#token;
    this.#token = undefined;
    // A batch token cannot be revoked (the server would refuse): it ends at its TTL, stored nowhere.
    if (!t || this.#shared || this.#batch) return;
    try {
      await this.client.request('POST', 'auth/token/revoke-self', {}, { 'x-vault-token': t });
    } catch (err) {
      this.log.debug({ code: isArcaError(err) ? err.code : 'error' }, 'token revoke failed');
    }
  }
}
