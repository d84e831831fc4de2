/**
 * One logged-in read/write session on the token with a given label.
 *
 * SoftHSM (and many HSMs) assign slot ids dynamically, so the slot is found by token label on every
 * open. pkcs11js calls are synchronous, so one session used from the event loop is naturally
 * serialised: a multi-call operation (EncryptInit + Encrypt) can never interleave with another.
 * The PIN is used once for C_Login and not kept.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ArcaError } from '../../errors/index.ts';
import type { Secret } from '../../log/index.ts';
import { acquireModule, ckrCode, ckrName, type Handle, type Pkcs11, pkcs11js, releaseModule } from './module.ts';

export interface Pkcs11Options {
  /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  tokenLabel: string;
  /** User PIN. Never logged or put in error messages. */
  pin: string | Secret<string>;
}

/** CK_STATE CKS_RW_USER_FUNCTIONS (PKCS#11 §5.8); pkcs11js does not export the CKS_* constants. */
const CKS_RW_USER_FUNCTIONS = 3;

const LOGIN_FAILURES = new Set<number>([
  pkcs11js.CKR_PIN_INCORRECT,
  pkcs11js.CKR_PIN_INVALID,
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_EXPIRED,
  pkcs11js.CKR_PIN_LOCKED,
  pkcs11js.CKR_USER_PIN_NOT_INITIALIZED,
]);

/**
 * PKCS#11 login state belongs to the application, not the session: once one session is logged in,
 * C_Login on another returns CKR_USER_ALREADY_LOGGED_IN without checking the PIN. So that a second
 * open with a wrong PIN still fails, we remember a keyed digest of the PIN that logged in (the key
 * is random per process; the PIN itself is not kept) for as long as sessions on that token exist.
 */
const DIGEST_KEY = randomBytes(32);
const logins = new Map<string, { digest: Buffer; sessions: number }>();

function pinDigest(pin: string): Buffer {
  return createHmac('sha256', DIGEST_KEY).update(pin, 'utf8').digest();
}

function loginKey(module: string, tokenLabel: string): string {
  return `${module}\0${tokenLabel}`;
}

export class Pkcs11Session {
  readonly p11: Pkcs11;
  readonly module: string;
  readonly tokenLabel: string;
  readonly #slot: Handle;
  #session: Handle | undefined;

  private constructor(p11: Pkcs11, module: string, tokenLabel: string, slot: Handle, session: Handle) {
    this.p11 = p11;
    this.module = module;
    this.tokenLabel = tokenLabel;
    this.#slot = slot;
    this.#session = session;
  }

  static open(opts: Pkcs11Options): Pkcs11Session {
    const p11 = acquireModule(opts.module);
    let session: Handle | undefined;
    try {
      const slot = findSlot(p11, opts.module, opts.tokenLabel);
      session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      login(p11, session, opts);
      const entry = logins.get(loginKey(opts.module, opts.tokenLabel));
      if (entry) entry.sessions++;
      return new Pkcs11Session(p11, opts.module, opts.tokenLabel, slot, session);
    } catch (err) {
      if (session !== undefined) {
        const s = session;
        try {
          p11.C_CloseSession(s);
        } catch {
          // already unusable
        }
      }
      releaseModule(opts.module);
      if (err instanceof ArcaError) throw err;
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `cannot open a session on token "${opts.tokenLabel}" (${ckrName(err)})`, { cause: err });
    }
  }

  /** The session handle; throws ERR_HSM_UNAVAILABLE once closed. */
  get handle(): Handle {
    if (this.#session === undefined) throw new ArcaError('ERR_HSM_UNAVAILABLE', `PKCS#11 session on token "${this.tokenLabel}" is closed`);
    return this.#session;
  }

  /**
   * Replaces the session with a fresh one, abandoning any half-finished operation (some modules
   * leave an operation active after an argument error, which would block every later call).
   * The new session is opened before the old one is closed so the login state, which PKCS#11 keeps
   * per application and token, is not lost.
   */
  reset(): void {
    const old = this.handle;
    const fresh = this.p11.C_OpenSession(this.#slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    this.#session = fresh;
    try {
      this.p11.C_CloseSession(old);
    } catch {
      // the old session is unusable anyway
    }
    if (this.p11.C_GetSessionInfo(fresh).state !== CKS_RW_USER_FUNCTIONS) {
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `PKCS#11 session on token "${this.tokenLabel}" lost its login; reopen the HSM`);
    }
  }

  /** Closes the session (which logs out once it is the last one) and releases the module. */
  close(): void {
    const s = this.#session;
    if (s === undefined) return;
    this.#session = undefined;
    const key = loginKey(this.module, this.tokenLabel);
    const entry = logins.get(key);
    if (entry && --entry.sessions <= 0) logins.delete(key);
    try {
      this.p11.C_CloseSession(s);
    } catch {
      // closing a broken session: nothing to do
    } finally {
      releaseModule(this.module);
    }
  }
}

function findSlot(p11: Pkcs11, module: string, label: string): Handle {
  const seen: string[] = [];
  for (const slot of p11.C_GetSlotList(true)) {
    const tokenLabel = p11.C_GetTokenInfo(slot).label.trimEnd();
    if (tokenLabel === label) return slot;
    if (tokenLabel !== '') seen.push(JSON.stringify(tokenLabel));
  }
  throw new ArcaError(
    'ERR_HSM_UNAVAILABLE',
    `no initialised token labelled "${label}" in PKCS#11 module ${module}` + (seen.length ? ` (found: ${seen.join(', ')})` : ' (no initialised tokens)') + '; check the token label',
  );
}

function login(p11: Pkcs11, session: Handle, opts: Pkcs11Options): void {
  const pin = typeof opts.pin === 'string' ? opts.pin : opts.pin.reveal();
  const key = loginKey(opts.module, opts.tokenLabel);
  const digest = pinDigest(pin);
  try {
    p11.C_Login(session, pkcs11js.CKU_USER, pin);
    logins.set(key, { digest, sessions: 0 });
  } catch (err) {
    const code = ckrCode(err);
    if (code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
      // Another session of this process is logged in: accept only the PIN that logged it in.
      const known = logins.get(key);
      if (known && timingSafeEqual(known.digest, digest)) return;
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `login to token "${opts.tokenLabel}" failed (CKR_PIN_INCORRECT): check the user PIN`);
    }
    if (code !== undefined && LOGIN_FAILURES.has(code)) {
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `login to token "${opts.tokenLabel}" failed (${ckrName(err)}): check the user PIN`, { cause: err });
    }
    throw new ArcaError('ERR_HSM_UNAVAILABLE', `login to token "${opts.tokenLabel}" failed (${ckrName(err)})`, { cause: err });
  }
}
