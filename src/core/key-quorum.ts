/**
 * One attempt at a time of an operation that key holders authorize with their shares (Vault's
 * `sys/generate-root` and `sys/rekey`): a nonce names the attempt, each holder sends a share with it,
 * and the threshold hands the combined secret to the operation. The rules both share:
 * - a share is checked against the seal record's fingerprints as it comes: a foreign or malformed
 *   share is refused and the progress stays as it was; a share already given is refused (Vault);
 * - refused shares count toward the caller's unseal rate limit, which is checked first;
 * - a wrong nonce, or no attempt, is a 400 that says what to do;
 * - reaching the threshold ends the attempt, whatever the operation then makes of the secret.
 * The attempt lives in memory (the active replica's, as in Vault): `cancel()` wipes its shares.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import { parseFields } from '../engines/index.ts';
import { ShareCollector, type ShareLabel, type ShareSet } from '../seal/index.ts';
import type { CoreRouteResult } from './core-routes.ts';

export interface QuorumLimits {
  beforeAttempt: (clientAddr: string) => void;
  failed: (clientAddr: string) => void;
}

/**
 * The answer of a key holders' endpoint: Vault's raw status object on the wire, and in the audit
 * entry only `audited`, the attempt's state — never the keys, OTP or encoded token the body carries
 * (the request's key and otp are HMAC'd as everywhere).
 */
export function quorumAnswer(body: Record<string, unknown>, audited: Record<string, unknown>): CoreRouteResult {
  return { status: 200, raw: { contentType: 'application/json', body: JSON.stringify(body) }, data: audited };
}

const UpdateFields = z.object({ key: z.unknown().optional(), nonce: z.string().optional() });

export class KeyQuorum<T> {
  readonly #limits: QuorumLimits;
  /** How the operation is named in messages, e.g. `root generation`, `rekey`. */
  readonly #what: string;
  /** Where an attempt starts, for the messages (e.g. `PUT sys/rekey/init`). */
  readonly #startHint: string;
  #attempt: { nonce: string; collector: ShareCollector; params: T } | undefined;
  /** Shares are taken one at a time (see submit). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(what: string, startHint: string, limits: QuorumLimits) {
    this.#what = what;
    this.#startHint = startHint;
    this.#limits = limits;
  }

  /** The attempt in progress: its nonce, progress, threshold and the operation's own parameters. */
  get current(): { nonce: string; progress: number; required: number; params: T } | undefined {
    const a = this.#attempt;
    return a && { nonce: a.nonce, progress: a.collector.progress, required: a.collector.threshold, params: a.params };
  }

  start(set: ShareSet, label: ShareLabel, params: T): string {
    if (this.#attempt) throw new ArcaError('ERR_INVALID_REQUEST', `${this.#what} already in progress: finish it with the current nonce, or cancel it first`);
    const nonce = randomUUID();
    this.#attempt = { nonce, collector: new ShareCollector(set, label), params };
    return nonce;
  }

  cancel(): void {
    this.#attempt?.collector.reset();
    this.#attempt = undefined;
  }

  /**
   * Takes one share (`{key, nonce}`). Answers the combined secret (the caller wipes it) with the
   * attempt's parameters once the threshold is reached, and nothing before. Shares are taken one at
   * a time: a second share arriving while the threshold's is being combined waits, then finds the
   * attempt over. An attempt cancelled (or replaced) while a share was being checked is not touched.
   */
  submit(data: Record<string, unknown>, clientAddr: string): Promise<{ secret: Uint8Array; nonce: string; required: number; params: T } | undefined> {
    const run = this.#queue.then(() => this.#submit(data, clientAddr));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #submit(data: Record<string, unknown>, clientAddr: string): Promise<{ secret: Uint8Array; nonce: string; required: number; params: T } | undefined> {
    const f = parseFields(UpdateFields, data);
    if (f.key === undefined || f.key === '') throw new ArcaError('ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON");
    const a = this.#attempt;
    if (!a) throw new ArcaError('ERR_INVALID_REQUEST', `no ${this.#what} in progress: start one with ${this.#startHint}`);
    if (f.nonce !== a.nonce) throw new ArcaError('ERR_INVALID_REQUEST', `incorrect nonce: give the nonce of the ${this.#what} in progress`);
    this.#limits.beforeAttempt(clientAddr);
    const before = a.collector.progress;
    let secret: Uint8Array | undefined;
    try {
      secret = await a.collector.add(f.key);
    } catch (err) {
      this.#limits.failed(clientAddr);
      throw err;
    }
    if (this.#attempt !== a) {
      secret?.fill(0);
      throw new ArcaError('ERR_INVALID_REQUEST', `the ${this.#what} was cancelled while this key was being checked: start a new one`);
    }
    if (!secret) {
      if (a.collector.progress === before) throw new ArcaError('ERR_INVALID_REQUEST', `given key has already been provided during this ${this.#what} operation`);
      return undefined;
    }
    this.#attempt = undefined;
    return { secret, nonce: a.nonce, required: a.collector.threshold, params: a.params };
  }
}
