/**
 * Batch tokens (Vault's `hvb.` tokens): the token *is* its entry, sealed under the barrier's active
 * key, so issuing one writes nothing and a fleet of short-lived logins leaves no storage behind. The
 * price is Vault's: no accessor, not renewable, not revocable (a batch token ends at its expiry,
 * when its parent is revoked, or when the auth mount that issued it is disabled), no children, no
 * limited uses, no periods, never root.
 *
 * Layout: `hvb.` ‖ base64url(barrier value), the barrier value being header(version, key term) ‖
 * nonce ‖ AES-256-GCM(JSON) ‖ tag with the AAD bound to BATCH_PATH, so a batch token cannot be
 * replayed as any stored value or the reverse. Older key terms stay readable after a barrier
 * rotation, so rotation never logs anyone out. PURE: sealing is the caller's (the barrier's).
 */
import { ArcaError } from '../errors/index.ts';
import { MAX_DURATION_SECONDS, MAX_EXPIRE_AT, sane } from './token-ttl.ts';
import type { TokenEntry } from './tokens.ts';

export const BATCH_PREFIX = 'hvb.';
/** The AAD path of every batch token (no stored value lives there). */
export const BATCH_PATH = 'sys/token/batch';
/**
 * The longest batch token issued or accepted. A Kubernetes login's token (eight metadata fields,
 * a few policies) is about 600 characters; HTTP servers and proxies commonly cap a header at 8 KiB.
 */
export const BATCH_MAX_CHARS = 4096;

export interface Sealer {
  encrypt(path: string, plaintext: Uint8Array): Uint8Array;
  /** Throws on any tampering or unknown key term. */
  decrypt(path: string, value: Uint8Array): Uint8Array;
}

/** What the token store needs to issue and serve batch tokens. */
export interface BatchDeps {
  sealer: Sealer;
  /** Whether the auth mount with this accessor is still enabled (a re-enabled mount has a new one). */
  mountLive(accessor: string): boolean;
}

/** What a batch token carries: the entry minus what only stored tokens have (id, accessor, uses). */
interface Wire {
  v: 1;
  p: string[];
  n: string;
  m: Record<string, string>;
  c: number;
  e: number;
  t: number;
  x: number;
  a: string;
  /** Parent's HMAC id; absent for orphans. */
  r?: string;
  i?: string;
  f?: number;
  /** Accessor of the auth mount whose login issued it: disabling that mount ends the token. */
  k?: string;
  /** Bound CIDRs. */
  b?: string[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export const isBatchToken = (token: string) => token.startsWith(BATCH_PREFIX);

export function sealBatch(s: Sealer, e: TokenEntry): string {
  const w: Wire = { v: 1, p: e.policies, n: e.displayName, m: e.meta, c: e.createdAt, e: e.expireAt, t: e.ttl, x: e.explicitMaxTtl, a: e.path };
  if (e.parent) w.r = e.parent;
  if (e.entityId) w.i = e.entityId;
  if (e.mfaAt) w.f = e.mfaAt;
  if (e.mountAccessor) w.k = e.mountAccessor;
  if (e.boundCidrs?.length) w.b = e.boundCidrs;
  const sealed = s.encrypt(BATCH_PATH, enc.encode(JSON.stringify(w)));
  const token = BATCH_PREFIX + Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length).toString('base64url');
  if (token.length > BATCH_MAX_CHARS) {
    throw new ArcaError('ERR_INVALID_REQUEST', `the token's policies and metadata make a batch token of ${token.length} characters, more than ${BATCH_MAX_CHARS}: use fewer or shorter metadata values, or a service token`);
  }
  return token;
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The entry a batch token carries, or undefined when it is not one this server sealed (never throws). */
export function openBatch(s: Sealer, token: string): TokenEntry | undefined {
  if (!isBatchToken(token) || token.length > BATCH_MAX_CHARS) return undefined;
  let w: Wire;
  try {
    w = JSON.parse(dec.decode(s.decrypt(BATCH_PATH, Buffer.from(token.slice(BATCH_PREFIX.length), 'base64url')))) as Wire;
  } catch {
    return undefined;
  }
  // A batch token always expires (never root): an entry without an expiry was not sealed here.
  if (w?.v !== 1 || !(typeof w.e === 'number' && w.e > 0) || !strings(w.p) || typeof w.n !== 'string' || typeof w.a !== 'string' || typeof w.m !== 'object' || w.m === null) return undefined;
  const e: TokenEntry = {
    id: '',
    accessor: '',
    policies: w.p,
    parent: typeof w.r === 'string' ? w.r : '',
    displayName: w.n,
    meta: w.m,
    createdAt: sane(w.c, MAX_EXPIRE_AT),
    expireAt: sane(w.e, MAX_EXPIRE_AT),
    ttl: sane(w.t, MAX_DURATION_SECONDS),
    explicitMaxTtl: sane(w.x, MAX_DURATION_SECONDS),
    period: 0,
    renewable: false,
    numUses: 0,
    path: w.a,
    orphan: typeof w.r !== 'string',
    type: 'batch',
  };
  if (typeof w.i === 'string') e.entityId = w.i;
  if (typeof w.f === 'number') e.mfaAt = w.f;
  if (typeof w.k === 'string') e.mountAccessor = w.k;
  // A list that does not parse binds to nothing usable: refuse the token rather than widen it.
  if (w.b !== undefined) {
    if (!strings(w.b) || w.b.length === 0) return undefined;
    e.boundCidrs = w.b;
  }
  return e;
}
