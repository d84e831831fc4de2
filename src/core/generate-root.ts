/**
 * Root token generation by key holders (Vault's `sys/generate-root`, `vault operator generate-root`):
 * the break-glass path once the initial root token is revoked. An attempt hands out a one-time pad
 * (OTP) as long as a root token; a threshold of unseal key shares (recovery shares with the HSM seal)
 * mints a fresh root token, returned only XORed with that pad (`encoded_token`, Vault's encoding:
 * raw standard base64 of OTP ⊕ token), so whoever watches the key holders' requests never sees it.
 *
 * The attempt rules are key-quorum.ts's (shared with rekey.ts): it lives in the active replica's
 * memory, as in Vault, so a restart, a seal or an HA step-down ends it; shares are checked one by one
 * against the seal record's fingerprints; a refused share counts toward the unseal rate limit.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { encodeRootToken } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { parseFields } from '../engines/index.ts';
import type { ShareSet } from '../seal/index.ts';
import type { CoreRoutes } from './core-routes.ts';
import { KeyQuorum, type QuorumLimits, quorumAnswer } from './key-quorum.ts';
import { SERVICE_TOKEN_LENGTH } from './tokens.ts';

/** The OTP is as long as the root token it masks. */
export const ROOT_OTP_LENGTH = SERVICE_TOKEN_LENGTH;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function newOtp(): string {
  let s = '';
  for (let i = 0; i < ROOT_OTP_LENGTH; i++) s += BASE62[randomInt(BASE62.length)];
  return s;
}

export interface GenerateRootDeps extends QuorumLimits {
  /** The shares that count: the unseal set (Shamir seal) or the recovery set (HSM seal), and their name. */
  shareSet: () => { set: ShareSet; keys: string };
  /** Whether the combined secret is this server's (Shamir: it opens the stored root key). */
  verifyCombined: (secret: Uint8Array) => Promise<boolean>;
  /** Mints a new root token (as init does) and answers it with its accessor. */
  mintRoot: () => Promise<{ token: string; accessor: string }>;
  /** Revokes a token just minted that could not be handed out. */
  revokeRoot: (token: string) => Promise<void>;
}

const AttemptFields = z.object({ otp: z.string().optional(), pgp_key: z.string().optional() });

export class RootGeneration {
  readonly #d: GenerateRootDeps;
  readonly #quorum: KeyQuorum<{ otp: string }>;

  constructor(d: GenerateRootDeps) {
    this.#d = d;
    this.#quorum = new KeyQuorum('root generation', 'PUT sys/generate-root/attempt', d);
  }

  /** Ends the attempt and wipes the shares given so far (seal, step-down). */
  cancel(): void {
    this.#quorum.cancel();
  }

  status(): Record<string, unknown> {
    const a = this.#quorum.current;
    return {
      started: a !== undefined,
      nonce: a?.nonce ?? '',
      progress: a?.progress ?? 0,
      required: this.#d.shareSet().set.threshold,
      complete: false,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: '',
      otp: '',
      otp_length: ROOT_OTP_LENGTH,
    };
  }

  start(data: Record<string, unknown>): Record<string, unknown> {
    const f = parseFields(AttemptFields, data);
    if (f.pgp_key) throw new ArcaError('ERR_INVALID_REQUEST', 'PGP-encrypted root tokens are not supported; omit pgp_key (the token is returned XORed with the OTP)');
    // Printable ASCII only: the pad is XORed byte by byte with the token, so its bytes must be its characters.
    if (f.otp !== undefined && f.otp !== '' && !(f.otp.length === ROOT_OTP_LENGTH && /^[\x21-\x7e]+$/.test(f.otp))) {
      throw new ArcaError('ERR_INVALID_REQUEST', `OTP string is wrong length: it must be ${ROOT_OTP_LENGTH} printable ASCII characters, or omit it and the server generates one`);
    }
    const otp = f.otp || newOtp();
    const { set, keys } = this.#d.shareSet();
    this.#quorum.start(set, { keys, progress: 'root generation progress' }, { otp });
    return { ...this.status(), otp: f.otp ? '' : otp };
  }

  async update(data: Record<string, unknown>, clientAddr: string): Promise<{ body: Record<string, unknown>; accessor?: string }> {
    const done = await this.#quorum.submit(data, clientAddr);
    if (!done) return { body: this.status() };
    try {
      if (!(await this.#d.verifyCombined(done.secret))) {
        this.#d.failed(clientAddr);
        throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', "root key verification failed: the combined keys are not this server's; start a new attempt");
      }
    } finally {
      done.secret.fill(0);
    }
    const { token, accessor } = await this.#d.mintRoot();
    let encoded: string;
    try {
      encoded = encodeRootToken(token, done.params.otp);
    } catch (err) {
      // Never leave a root token that nobody received.
      await this.#d.revokeRoot(token);
      throw err;
    }
    return {
      accessor,
      body: {
        started: true, nonce: done.nonce, progress: done.required, required: done.required, complete: true, encoded_token: encoded, encoded_root_token: encoded,
        pgp_fingerprint: '', otp: '', otp_length: ROOT_OTP_LENGTH,
      },
    };
  }
}

/** What the audit entry records of an answer (quorumAnswer): the attempt's state, never the OTP or the encoded token. */
const auditedState = (b: Record<string, unknown>) => ({ started: b['started'], nonce: b['nonce'], progress: b['progress'], required: b['required'], complete: b['complete'] });

/** `sys/generate-root/attempt` (GET status, PUT start, DELETE cancel) and `sys/generate-root/update`. */
export function registerGenerateRoot(routes: CoreRoutes, g: RootGeneration): void {
  routes.set('sys/generate-root/attempt', {
    local: false,
    handlers: {
      read: async () => {
        const b = g.status();
        return quorumAnswer(b, auditedState(b));
      },
      update: async (req) => {
        const b = g.start(req.data);
        return quorumAnswer(b, auditedState(b));
      },
      delete: async () => {
        g.cancel();
        return { status: 204 };
      },
    },
  });
  routes.set('sys/generate-root/update', {
    local: false,
    handlers: {
      update: async (req) => {
        const { body, accessor } = await g.update(req.data, req.clientAddr);
        return quorumAnswer(body, { ...auditedState(body), ...(accessor ? { root_token_accessor: accessor } : {}) });
      },
    },
  });
}
