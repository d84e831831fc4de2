/**
 * Parsing and checking of operator-supplied shares, and the unseal progress tracker.
 * Shares are accepted as hex (what Vault's `keys` holds) or standard base64 (`keys_base64`).
 */
import { randomUUID } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import { combineShares, decodeB64Strict, decodeHexStrict, matchShare } from '../crypto/index.ts';
import type { ShareSet } from './records.ts';

/** Share bytes = 32-byte secret share + 1 x-coordinate byte. */
export const SHARE_LEN = 33;

/** `keys` names the kind of share in refusals (e.g. `unseal keys`, `recovery keys`). */
export function decodeShare(input: unknown, keys = 'unseal keys'): Uint8Array {
  const one = keys.replace(/s$/, '');
  if (typeof input !== 'string' || input.trim() === '') {
    throw new ArcaError('ERR_SEAL_SHARE_MALFORMED', `key must be a non-empty string: one of the ${keys} in hex or base64 as init returned them`);
  }
  const s = input.trim();
  const bytes = (s.length === SHARE_LEN * 2 ? decodeHexStrict(s) : undefined) ?? decodeB64Strict(s);
  if (!bytes || bytes.length !== SHARE_LEN) {
    throw new ArcaError('ERR_SEAL_SHARE_MALFORMED', `key is not a valid ${one}: expected ${SHARE_LEN} bytes in hex (${SHARE_LEN * 2} characters) or base64`);
  }
  return bytes;
}

export interface ShareLabel {
  keys: string;
  progress: string;
}

/**
 * Collects shares until the threshold. A malformed or foreign share is refused with its own error
 * and leaves the progress exactly as it was; a repeated share is ignored.
 */
export class ShareCollector {
  readonly #set: ShareSet;
  readonly #salt: Uint8Array;
  readonly #label: ShareLabel;
  #got = new Map<number, Uint8Array>();
  #nonce = randomUUID();

  /** `label` names the keys and the progress in refusals (unseal by default; root generation too). */
  constructor(set: ShareSet, label: ShareLabel = { keys: 'unseal keys', progress: 'unseal progress' }) {
    this.#set = set;
    this.#salt = new Uint8Array(Buffer.from(set.salt, 'base64'));
    this.#label = label;
  }

  get progress(): number {
    return this.#got.size;
  }
  get threshold(): number {
    return this.#set.threshold;
  }
  get shares(): number {
    return this.#set.shares;
  }
  /** Vault's unseal nonce: identifies the current attempt; empty when no attempt is in progress. */
  get nonce(): string {
    return this.#got.size === 0 ? '' : this.#nonce;
  }

  /** Adds a share; returns the combined secret once the threshold is reached (and resets). */
  async add(input: unknown): Promise<Uint8Array | undefined> {
    const share = decodeShare(input, this.#label.keys);
    const idx = matchShare(this.#salt, share, this.#set.fingerprints);
    if (idx < 0) {
      throw new ArcaError('ERR_SEAL_SHARE_UNKNOWN', `this key is not one of the ${this.#label.keys} of this server (from another init, or altered); ${this.#label.progress} is unchanged`);
    }
    // Vault ignores a share already given in this attempt (progress unchanged, no error).
    if (this.#got.has(idx)) return undefined;
    if (this.#got.size === 0) this.#nonce = randomUUID();
    this.#got.set(idx, share);
    if (this.#got.size < this.#set.threshold) return undefined;
    const parts = [...this.#got.values()];
    this.#got = new Map();
    try {
      return await combineShares(parts);
    } finally {
      for (const p of parts) p.fill(0);
    }
  }

  reset(): void {
    for (const s of this.#got.values()) s.fill(0);
    this.#got = new Map();
  }
}
