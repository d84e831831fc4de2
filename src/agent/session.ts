/**
 * The agent's connection to Arca: one ArcaClient (one keep-alive agent), a token obtained by
 * logging in (Kubernetes auth: the projected token file is re-read before every login, because the
 * kubelet rotates it) or read from a token file (re-read before each use), and KV v2 reads.
 *
 * The token is renewed by logging in again once two thirds of its TTL have passed, so a refresh
 * never starts with a token about to expire. A 403 on a read forces one fresh login and retry
 * (the token may have been revoked); a second 403 is a real denial.
 */
import type { Logger } from 'pino';
import { type ArcaClient, type SecretRef, secretDataPath, secretMetadataPath, toClientError } from '../client/index.ts';
import { ArcaError } from '../errors/index.ts';
import type { AgentConfig } from './config.ts';

export interface SessionIO {
  readFile(path: string): Promise<string>;
  now(): number;
}

export interface KvSecret {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  version: number;
}

/**
 * Which write a secret's current version is: its number and when that version was made. The number
 * alone can come back with other values: after a snapshot restore rolls a secret back, the next
 * write gets a number the agent may already have rendered.
 */
export interface Revision {
  version: number;
  created: string | undefined;
}

const createdOf = (m: { created_time?: unknown } | undefined): string | undefined => (typeof m?.created_time === 'string' ? m.created_time : undefined);

/** A revision as one comparable string (`<version>@<created_time>`). */
export const revisionKey = (r: Revision): string => `${r.version}@${r.created ?? ''}`;

/** The revision a read secret is at. */
export const revisionOf = (s: KvSecret): Revision => ({ version: s.version, created: createdOf(s.metadata) });

/** Longest token file we accept: a JWT or an Arca token is far smaller; a mistake (a binary) is not read into a login. */
const MAX_TOKEN_BYTES = 16384;

export class Session {
  readonly #client: ArcaClient;
  readonly #auth: AgentConfig['auth'];
  readonly #io: SessionIO;
  readonly #log: Logger;
  #renewAt = 0;
  #loggedIn = false;
  /** Refs whose metadata we may not read (policy grants data only): poll their data instead. */
  readonly #noMetadata = new Set<string>();
  logins = 0;

  constructor(client: ArcaClient, auth: AgentConfig['auth'], io: SessionIO, log: Logger) {
    this.#client = client;
    this.#auth = auth;
    this.#io = io;
    this.#log = log;
  }

  async #readTokenFile(file: string, what: string): Promise<string> {
    let t: string;
    try {
      t = (await this.#io.readFile(file)).trim();
    } catch (err) {
      throw new ArcaError('ERR_CONFIG_READ', `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (t === '' || t.length > MAX_TOKEN_BYTES) throw new ArcaError('ERR_CONFIG_READ', `the ${what} file ${file} is empty or too long`);
    return t;
  }

  /** Makes sure the client holds a usable token (logs in when none or when it is due for renewal). */
  async ensureToken(force = false): Promise<void> {
    if (this.#auth.type === 'token-file') {
      this.#client.token = await this.#readTokenFile(this.#auth.tokenFile, 'token');
      return;
    }
    if (!force && this.#loggedIn && this.#io.now() < this.#renewAt) return;
    const jwt = await this.#readTokenFile(this.#auth.tokenFile, 'service-account token');
    this.#client.token = undefined;
    const started = this.#io.now();
    const r = await this.#client.request('POST', `auth/${this.#auth.mount}/login`, { role: this.#auth.role, jwt });
    if (r.status >= 400) {
      const e = toClientError(r);
      throw new ArcaError(e.code, `login to auth/${this.#auth.mount} as role ${this.#auth.role} failed: ${e.message}`, { details: e.details ?? {} });
    }
    const auth = (r.body['auth'] ?? {}) as { client_token?: unknown; lease_duration?: unknown };
    if (typeof auth.client_token !== 'string' || auth.client_token === '') throw new ArcaError('ERR_INTERNAL', 'the server answered the login without a token');
    this.#client.token = auth.client_token;
    const ttl = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
    this.#renewAt = ttl > 0 ? started + (ttl * 1000 * 2) / 3 : Number.POSITIVE_INFINITY;
    this.#loggedIn = true;
    this.logins++;
    this.#log.info({ mount: this.#auth.mount, role: this.#auth.role, ttlSeconds: ttl }, 'logged in');
  }

  /** GET with the session token; one forced re-login on 403. Returns the raw response for 2xx and 404. */
  async #get(path: string, display: string): Promise<{ status: number; body: Record<string, unknown> }> {
    await this.ensureToken();
    let r = await this.#client.request('GET', path);
    if (r.status === 403 && this.#auth.type === 'kubernetes') {
      await this.ensureToken(true);
      r = await this.#client.request('GET', path);
    }
    if (r.status === 404) return r;
    if (r.status >= 400) {
      const e = toClientError(r);
      throw new ArcaError(e.code, `${display}: ${e.message}`, { details: e.details ?? {} });
    }
    return r;
  }

  /** Reads a KV v2 secret (a version, or the current one). A missing or deleted secret is ERR_NOT_FOUND naming the reference. */
  async read(ref: SecretRef, display: string, version?: number): Promise<KvSecret> {
    const r = await this.#get(`${secretDataPath(ref)}${version ? `?version=${version}` : ''}`, display);
    const d = (r.body['data'] ?? null) as { data?: unknown; metadata?: Record<string, unknown> } | null;
    if (r.status === 404 || !d || d.data === null || typeof d.data !== 'object') {
      throw new ArcaError('ERR_NOT_FOUND', `${display}: no secret${version ? ` version ${version}` : ''} at this path (missing, deleted or destroyed)`);
    }
    const meta = d.metadata ?? {};
    return { data: d.data as Record<string, unknown>, metadata: meta, version: typeof meta['version'] === 'number' ? meta['version'] : 0 };
  }

  /**
   * The current version of a secret, from its metadata (cheap, no values cross the wire). When the
   * policy grants no read on metadata, falls back to reading the data once per poll.
   */
  async currentVersion(ref: SecretRef, display: string): Promise<Revision & { secret?: KvSecret }> {
    const key = `${ref.mount}/${ref.path}`;
    if (!this.#noMetadata.has(key)) {
      try {
        const r = await this.#get(secretMetadataPath(ref), display);
        if (r.status === 404) throw new ArcaError('ERR_NOT_FOUND', `${display}: no secret at this path`);
        const m = (r.body['data'] ?? {}) as { current_version?: unknown; versions?: Record<string, { created_time?: unknown }> };
        const v = m.current_version;
        if (typeof v === 'number') return { version: v, created: createdOf(m.versions?.[String(v)]) };
      } catch (err) {
        if (!(err instanceof ArcaError) || err.code !== 'ERR_PERMISSION_DENIED') throw err;
        this.#noMetadata.add(key);
        this.#log.info({ path: display }, 'no read on metadata, polling data instead');
      }
    }
    const secret = await this.read(ref, display);
    return { version: secret.version, created: createdOf(secret.metadata), secret };
  }

  close(): void {
    this.#client.close();
  }
}
