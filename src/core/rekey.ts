/**
 * Rekeying (Vault's `sys/rekey` and `sys/rekey-recovery-key`, `vault operator rekey [-target=recovery]`):
 * a quorum of the current key holders replaces the key shares with a new set of `secret_shares` and
 * `secret_threshold`, e.g. when a holder leaves. With the Shamir seal the unseal keys are replaced
 * (a new unseal key re-wraps the root key; the data and its keys are untouched); with the HSM seal,
 * the recovery keys. The new shares are in the last holder's answer, once, and in no log.
 *
 * The attempt rules (nonce, shares checked as they come, rate limit) are key-quorum.ts's. Not in
 * this subset, refused with a 400 that says so: PGP-encrypted shares, their backup, and Vault's
 * verification round (`require_verification`).
 */
import { z } from 'zod';
import { assertShareParams } from '../crypto/index.ts';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { parseFields, vBool, vInt } from '../engines/index.ts';
import type { ShareSet } from '../seal/index.ts';
import type { CoreRouteResult, CoreRoutes } from './core-routes.ts';
import { KeyQuorum, type QuorumLimits, quorumAnswer } from './key-quorum.ts';

export type RekeyTarget = 'unseal' | 'recovery';

export interface RekeyDeps extends QuorumLimits {
  /** The set whose holders authorize a rekey of `target` (undefined: this seal has no such keys). */
  shareSet: (target: RekeyTarget) => ShareSet | undefined;
  /** Replaces `target`'s shares; the combined current secret authorizes it (SealManager.rekey). */
  rekey: (target: RekeyTarget, secret: Uint8Array, shares: number, threshold: number) => Promise<{ keys: string[]; keysBase64: string[] }>;
}

const InitFields = z.object({
  secret_shares: vInt,
  secret_threshold: vInt,
  pgp_keys: z.array(z.string()).optional(),
  backup: vBool.optional(),
  require_verification: vBool.optional(),
  // The Go SDK always sends it (0): stored shares are for seals Arca does not have.
  stored_shares: vInt.optional(),
});

const KEYS: Record<RekeyTarget, string> = { unseal: 'unseal keys', recovery: 'recovery keys' };
const PATH: Record<RekeyTarget, string> = { unseal: 'sys/rekey', recovery: 'sys/rekey-recovery-key' };

export class Rekey {
  readonly #d: RekeyDeps;
  readonly #target: RekeyTarget;
  readonly #quorum: KeyQuorum<{ shares: number; threshold: number }>;

  constructor(target: RekeyTarget, d: RekeyDeps) {
    this.#d = d;
    this.#target = target;
    this.#quorum = new KeyQuorum('rekey', `PUT ${PATH[target]}/init`, d);
  }

  cancel(): void {
    this.#quorum.cancel();
  }

  #set(): ShareSet {
    const set = this.#d.shareSet(this.#target);
    if (set) return set;
    throw new ArcaError(
      'ERR_INVALID_REQUEST',
      this.#target === 'unseal'
        ? 'this server auto-unseals with its HSM and has no unseal keys: rekey its recovery keys (sys/rekey-recovery-key, vault operator rekey -target=recovery)'
        : 'recovery keys exist only with the HSM seal: this server unseals with unseal keys (sys/rekey)',
    );
  }

  status(): Record<string, unknown> {
    const a = this.#quorum.current;
    return {
      nonce: a?.nonce ?? '',
      started: a !== undefined,
      t: a?.params.threshold ?? 0,
      n: a?.params.shares ?? 0,
      progress: a?.progress ?? 0,
      required: this.#set().threshold,
      pgp_fingerprints: null,
      backup: false,
      verification_required: false,
    };
  }

  start(data: Record<string, unknown>): Record<string, unknown> {
    const set = this.#set();
    const f = parseFields(InitFields, data);
    if (f.pgp_keys?.length) throw new ArcaError('ERR_INVALID_REQUEST', 'PGP-encrypted key shares are not supported; omit pgp_keys');
    if (f.backup) throw new ArcaError('ERR_INVALID_REQUEST', 'backup of the new keys needs PGP-encrypted shares, which are not supported; omit backup');
    if (f.require_verification) throw new ArcaError('ERR_INVALID_REQUEST', 'rekey verification is not supported: the new keys take effect when the last holder submits, and are returned to that holder once');
    if (f.stored_shares) throw new ArcaError('ERR_INVALID_REQUEST', 'stored_shares is not supported: no key share is stored by the server');
    // init's rule, checked here so a bad count is refused before any holder sends a share.
    assertShareParams(f.secret_shares, f.secret_threshold);
    this.#quorum.start(set, { keys: KEYS[this.#target], progress: 'rekey progress' }, { shares: f.secret_shares, threshold: f.secret_threshold });
    return this.status();
  }

  async update(data: Record<string, unknown>, clientAddr: string): Promise<Record<string, unknown>> {
    const done = await this.#quorum.submit(data, clientAddr);
    if (!done) return this.status();
    let fresh: { keys: string[]; keysBase64: string[] };
    try {
      fresh = await this.#d.rekey(this.#target, done.secret, done.params.shares, done.params.threshold);
    } catch (err) {
      if (isArcaError(err, 'ERR_SEAL_UNSEAL_FAILED')) this.#d.failed(clientAddr);
      throw err;
    } finally {
      done.secret.fill(0);
    }
    return { nonce: done.nonce, complete: true, keys: fresh.keys, keys_base64: fresh.keysBase64, pgp_fingerprints: null, backup: false, verification_required: false };
  }
}

/** quorumAnswer with the attempt's state in the audit entry (never the new keys). */
const answer = (body: Record<string, unknown>): CoreRouteResult =>
  quorumAnswer(body, { started: body['started'] ?? true, nonce: body['nonce'], t: body['t'], n: body['n'], progress: body['progress'], required: body['required'], complete: body['complete'] ?? false });

/** `<path>/init` (GET status, PUT start, DELETE cancel) and `<path>/update`, for one target. */
export function registerRekey(routes: CoreRoutes, target: RekeyTarget, r: Rekey): void {
  routes.set(`${PATH[target]}/init`, {
    local: false,
    handlers: {
      read: async () => answer(r.status()),
      update: async (req) => answer(r.start(req.data)),
      delete: async () => {
        r.cancel();
        return { status: 204 };
      },
    },
  });
  routes.set(`${PATH[target]}/update`, { local: false, handlers: { update: async (req) => answer(await r.update(req.data, req.clientAddr)) } });
}
