/**
 * Verification keys for JWKS mode. Either fixed `pem_keys` (as Vault) or a remote JWKS found directly
 * (`jwks_url`) or through OIDC discovery, cached in memory for the response's Cache-Control max-age
 * (never longer), so a login does no network I/O in the steady state. A token whose `kid` is not in
 * the cached set triggers at most one refetch per `minRefreshSeconds`, so forged kids cannot turn
 * logins into a flood of requests to the API server.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { requestJson, unavailable } from './http-json.ts';

export interface KeySource {
  /** For jose's jwtVerify; throws jose's JWKSNoMatchingKey when the kid is unknown after a refresh. */
  getKey: JWTVerifyGetKey | KeyObject[];
  /** Issuer from OIDC discovery ('' when not discovered). */
  issuer(): Promise<string>;
}

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) });
const Discovery = z.object({ issuer: z.string().min(1), jwks_uri: z.string().url() });

/** Bounds on how long a fetched key set is trusted when the server's max-age is missing or extreme. */
const TTL = { min: 10, dflt: 300, max: 3600 };

function maxAge(h: string | string[] | undefined): number {
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(Array.isArray(h) ? h.join(',') : (h ?? ''));
  const n = m ? Number(m[1]) : TTL.dflt;
  return Math.min(TTL.max, Math.max(TTL.min, n));
}

export function pemKeySource(pems: string[]): KeySource {
  return { getKey: pems.map((p) => createPublicKey(p)), issuer: async () => '' };
}

export interface RemoteOptions {
  jwksUrl?: string;
  discoveryUrl?: string;
  ca: string;
  minRefreshSeconds: number;
  now: () => number;
}

export class RemoteKeySource implements KeySource {
  readonly #o: RemoteOptions;
  #set: ReturnType<typeof createLocalJWKSet> | undefined;
  #kids = new Set<string>();
  #expiresAt = 0;
  /** 80% into the set's validity: from then on a login triggers a background refetch. */
  #refreshAt = 0;
  #lastFetch = Number.NEGATIVE_INFINITY;
  #issuer = '';
  #inflight: Promise<void> | undefined;

  constructor(o: RemoteOptions) {
    this.#o = o;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = this.#o.now();
    const unknownKid = header.kid !== undefined && this.#set !== undefined && !this.#kids.has(header.kid);
    if (!this.#set || now >= this.#expiresAt) await this.#refresh();
    else if (now >= this.#refreshAt) {
      // Refresh ahead of expiry in the background: logins keep using the still-valid set meanwhile.
      void this.#refresh().catch(() => undefined);
    } else if (unknownKid && now - this.#lastFetch >= this.#o.minRefreshSeconds * 1000) {
      // The cached set is still valid: an unreachable JWKS only means the unknown kid stays unknown.
      await this.#refresh().catch(() => undefined);
    }
    return this.#set!(header, token);
  };

  async issuer(): Promise<string> {
    if (this.#o.discoveryUrl && !this.#issuer) await this.#refresh();
    return this.#issuer;
  }

  /** One fetch at a time: concurrent logins wait on the same request. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#lastFetch = this.#o.now();
    let jwksUrl = this.#o.jwksUrl ?? '';
    if (this.#o.discoveryUrl) {
      const url = `${this.#o.discoveryUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const r = await requestJson({ method: 'GET', url, ca: this.#o.ca, what: 'OIDC discovery' });
      const d = Discovery.safeParse(r.body);
      if (r.status !== 200 || !d.success) throw unavailable('OIDC discovery', `the server answered HTTP ${r.status} without a discovery document`);
      this.#issuer = d.data.issuer;
      jwksUrl = d.data.jwks_uri;
    }
    const r = await requestJson({ method: 'GET', url: jwksUrl, ca: this.#o.ca, what: 'JWKS fetch' });
    const j = Jwks.safeParse(r.body);
    if (r.status !== 200 || !j.success) throw unavailable('JWKS fetch', `the server answered HTTP ${r.status} without a JSON Web Key Set`);
    this.#set = createLocalJWKSet(j.data as unknown as JSONWebKeySet);
    this.#kids = new Set(j.data.keys.map((k) => k['kid']).filter((k): k is string => typeof k === 'string'));
    const ttlMs = maxAge(r.headers['cache-control']) * 1000;
    this.#expiresAt = this.#o.now() + ttlMs;
    this.#refreshAt = this.#o.now() + ttlMs * 0.8;
  }
}
