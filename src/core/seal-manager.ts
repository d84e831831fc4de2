/**
 * The seal state machine: uninitialized → sealed ⇄ unsealed.
 * init creates the root key and barrier keyring and protects the root key with the seal;
 * unseal recovers the root key (Shamir shares, or the HSM) and opens the barrier.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ArcaError, isArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { type Barrier, KEYRING_PATH } from '../barrier/index.ts';
import { assertShareParams, open, randomKey, seal, shareFingerprint, splitSecret, toB64, toHex, utf8, wipe } from '../crypto/index.ts';
import {
  type AutoSeal, encodeSealRecord, parseSealRecord, readSealRecord, ROOT_KEY_PATH, SEAL_CONFIG_PATH, SealRecord as SealRecordSchema, type SealRecord, ShareCollector, type ShareSet,
} from '../seal/index.ts';
import { bytesEqual, type Storage } from '../storage/index.ts';

export interface InitParams {
  secretShares: number;
  secretThreshold: number;
  recoveryShares: number;
  recoveryThreshold: number;
}

/**
 * What init stores behind the barrier beside the seal records (the root token, the mount table):
 * given the new root key and the keyring record init is about to commit, the entries to commit with
 * them, already barrier-encrypted. One transaction then holds the whole initial store.
 */
export type InitStage = (rootKey: Uint8Array, keyringRecord: Uint8Array) => Promise<readonly (readonly [string, Uint8Array])[]>;

export interface InitResult {
  keys: string[];
  keysBase64: string[];
  recoveryKeys: string[];
  recoveryKeysBase64: string[];
  rootKey: Uint8Array; // handed to the core once, to create the root token; wiped by the caller
}

const rootAad = (initId: string) => utf8(`arca/root-key/v1/${initId}`);
/** The recovery key's check value (SealRecord.recoveryCheck): reveals nothing of a random 256-bit key. */
const recoveryCheck = (key: Uint8Array, initId: string) => createHmac('sha256', key).update(`arca/recovery-key/v1/${initId}`).digest('base64');

async function makeShares(secret: Uint8Array, n: number, t: number): Promise<{ set: ShareSet; shares: Uint8Array[] }> {
  assertShareParams(n, t);
  const shares = await splitSecret(secret, n, t);
  const salt = randomBytes(32);
  return {
    shares,
    set: { shares: n, threshold: t, salt: salt.toString('base64'), fingerprints: shares.map((s) => shareFingerprint(salt, s)) },
  };
}

/** The same seal record, whatever the bytes or key order it was written in (both through the schema). */
function sameRecord(a: SealRecord, b: SealRecord): boolean {
  return bytesEqual(encodeSealRecord(SealRecordSchema.parse(a)), encodeSealRecord(SealRecordSchema.parse(b)));
}

export class SealManager {
  readonly #raw: Storage;
  readonly #barrier: Barrier;
  readonly #auto: AutoSeal | undefined;
  readonly #log: Logger;
  #record: SealRecord | undefined;
  #collector: ShareCollector | undefined;
  /** Inits running in this process (refresh() must not race them: init sets the record itself). */
  #initializing = 0;

  constructor(raw: Storage, barrier: Barrier, log: Logger, auto?: AutoSeal) {
    this.#raw = raw;
    this.#barrier = barrier;
    this.#auto = auto;
    this.#log = log;
  }

  get sealType(): 'shamir' | 'pkcs11' {
    return this.#auto ? 'pkcs11' : 'shamir';
  }

  async load(): Promise<SealRecord | undefined> {
    this.#record = await readSealRecord(this.#raw);
    if (this.#record && this.#record.type !== this.sealType) {
      throw new ArcaError('ERR_SEAL_CONFIG_INVALID', `storage was initialized with the ${this.#record.type} seal but the server is configured with ${this.sealType}; seal migration is not supported`);
    }
    if (this.#record?.unseal) this.#collector = new ShareCollector(this.#record.unseal);
    return this.#record;
  }

  get record(): SealRecord | undefined {
    return this.#record;
  }

  get initialized(): boolean {
    return this.#record !== undefined;
  }

  get collector(): ShareCollector | undefined {
    return this.#collector;
  }

  /**
   * Re-reads the seal record while none is known: a replica started before another replica (sharing
   * its storage) ran init learns of it here, without a restart. Returns true when the record was
   * found now — i.e. another process initialized the storage — and false otherwise, including while
   * this process's own init is running (it sets the record itself).
   */
  async refresh(): Promise<boolean> {
    if (this.#record || this.#initializing > 0) return false;
    const rec = await readSealRecord(this.#raw);
    if (!rec || this.#record || this.#initializing > 0) return false;
    await this.load();
    return this.#record !== undefined;
  }

  async init(p: InitParams, stage?: InitStage): Promise<InitResult> {
    // Concurrent inits in this process all reach the storage transaction, which picks the winner.
    this.#initializing++;
    try {
      return await this.#init(p, stage);
    } finally {
      this.#initializing--;
    }
  }

  async #init(p: InitParams, stage?: InitStage): Promise<InitResult> {
    if (await readSealRecord(this.#raw)) throw new ArcaError('ERR_ALREADY_INITIALIZED', 'Vault is already initialized');
    const initId = randomUUID();
    const rootKey = randomKey();
    const result: InitResult = { keys: [], keysBase64: [], recoveryKeys: [], recoveryKeysBase64: [], rootKey };
    const record: SealRecord = { v: 1, type: this.sealType, initId, createdAt: Date.now() };
    let blob: Uint8Array;
    if (this.#auto) {
      await this.#auto.prepare();
      blob = await this.#auto.wrap(rootKey, rootAad(initId));
      const recoveryKey = randomKey();
      const { set, shares } = await makeShares(recoveryKey, p.recoveryShares, p.recoveryThreshold);
      record.recovery = set;
      record.recoveryCheck = recoveryCheck(recoveryKey, initId);
      record.pkcs11 = { keyLabel: this.#auto.keyLabel };
      result.recoveryKeys = shares.map(toHex);
      result.recoveryKeysBase64 = shares.map(toB64);
      wipe(recoveryKey, ...shares);
    } else {
      const unsealKey = randomKey();
      blob = seal(unsealKey, rootKey, rootAad(initId));
      const { set, shares } = await makeShares(unsealKey, p.secretShares, p.secretThreshold);
      record.unseal = set;
      result.keys = shares.map(toHex);
      result.keysBase64 = shares.map(toB64);
      wipe(unsealKey, ...shares);
    }
    // One transaction, on condition that no seal config exists yet: of concurrent inits (two clients,
    // or two replicas on one database) exactly one writes its keyring, root key, seal config and the
    // staged initial state; the others write nothing, so the store never holds one init's config
    // beside another's key. A failed write leaves the store uninitialized: init can simply run again.
    let won = false;
    try {
      const keyring = this.#barrier.freshKeyringRecord(rootKey);
      const staged = stage ? await stage(rootKey, keyring) : [];
      won = await this.#raw.commit({
        puts: [...staged, [KEYRING_PATH, keyring], [ROOT_KEY_PATH, blob], [SEAL_CONFIG_PATH, encodeSealRecord(record)]],
        expect: [[SEAL_CONFIG_PATH, undefined]],
      });
    } finally {
      if (!won) wipe(rootKey);
    }
    if (!won) throw new ArcaError('ERR_ALREADY_INITIALIZED', 'Vault is already initialized');
    this.#record = record;
    if (record.unseal) this.#collector = new ShareCollector(record.unseal);
    return result;
  }

  /** Shamir: adds one share; returns true once the barrier is open. */
  async submitShare(key: unknown, reloaded = false): Promise<boolean> {
    const rec = this.#requireRecord();
    if (!this.#collector || !rec.unseal) throw new ArcaError('ERR_INVALID_REQUEST', 'this server auto-unseals with its HSM; unseal keys are not used');
    let unsealKey: Uint8Array | undefined;
    try {
      unsealKey = await this.#collector.add(key);
    } catch (err) {
      // A key from a rekey another replica did after this one read the record: read it again, once.
      if (isArcaError(err, 'ERR_SEAL_SHARE_UNKNOWN') && !reloaded && (await this.#reloadIfChanged())) return this.submitShare(key, true);
      throw err;
    }
    if (!unsealKey) return false;
    try {
      await this.#openWith((blob) => open(unsealKey, blob, rootAad(rec.initId), 'ERR_CRYPTO_DECRYPT'));
    } catch (err) {
      if (isArcaError(err, 'ERR_CRYPTO_DECRYPT')) {
        // Cannot happen with fingerprint-checked shares unless storage was altered; say so plainly.
        throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', 'the combined unseal keys did not decrypt the root key; progress was reset');
      }
      throw err;
    } finally {
      wipe(unsealKey);
    }
    return true;
  }

  /** Auto-unseal through the HSM. */
  async autoUnseal(): Promise<void> {
    const rec = this.#requireRecord();
    if (!this.#auto) throw new ArcaError('ERR_INTERNAL', 'no auto-unseal configured', { expose: false });
    await this.#openWith((blob) => this.#auto!.unwrap(blob, rootAad(rec.initId)));
    this.#log.info({ seal: 'pkcs11' }, 'auto-unsealed');
  }

  async #openWith(unwrap: (blob: Uint8Array) => Promise<Uint8Array> | Uint8Array): Promise<void> {
    const rootKey = await unwrap(await this.#storedRootKey());
    try {
      await this.#barrier.unseal(rootKey);
    } finally {
      wipe(rootKey);
    }
  }

  async #storedRootKey(): Promise<Uint8Array> {
    const blob = await this.#raw.get(ROOT_KEY_PATH);
    if (!blob) throw new ArcaError('ERR_INTERNAL', 'root key record is missing from storage', { expose: false });
    return blob;
  }

  /** The stored root key record, and the root key in it if `unsealKey` opens it (the caller wipes it). */
  async #openRootKey(unsealKey: Uint8Array, initId: string): Promise<{ blob: Uint8Array; rootKey: Uint8Array | undefined }> {
    const blob = await this.#storedRootKey();
    try {
      return { blob, rootKey: open(unsealKey, blob, rootAad(initId), 'ERR_CRYPTO_DECRYPT') };
    } catch (err) {
      if (isArcaError(err, 'ERR_CRYPTO_DECRYPT')) return { blob, rootKey: undefined };
      throw err;
    }
  }

  /** The shares that generate a root token: the unseal set, or the recovery set with the HSM seal. */
  rootShares(): { set: ShareSet; keys: string } {
    const rec = this.#requireRecord();
    if (rec.unseal) return { set: rec.unseal, keys: 'unseal keys' };
    if (rec.recovery) return { set: rec.recovery, keys: 'recovery keys' };
    throw new ArcaError('ERR_INTERNAL', 'the seal record holds no key shares', { expose: false });
  }

  /**
   * Whether shares combined for a root generation are this server's, checked against what storage
   * holds now (another replica may have rekeyed since this one read the record). The unseal key must
   * open the stored root key; the recovery key must match the stored check value. A record written
   * before check values existed has only the shares' fingerprints, which the shares matched as they came.
   */
  async verifyCombined(secret: Uint8Array): Promise<boolean> {
    const rec = await readSealRecord(this.#raw);
    if (!rec) throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
    if (!rec.unseal) return this.#isRecoveryKey(rec, secret);
    const { rootKey } = await this.#openRootKey(secret, rec.initId);
    if (!rootKey) return false;
    wipe(rootKey);
    return true;
  }

  /** Whether `secret` is the recovery key of the stored record `rec` (see verifyCombined). */
  #isRecoveryKey(rec: SealRecord, secret: Uint8Array): boolean {
    if (!rec.recovery) return false;
    if (!rec.recoveryCheck) return this.#record !== undefined && sameRecord(rec, this.#record);
    const want = Buffer.from(rec.recoveryCheck, 'base64');
    const got = Buffer.from(recoveryCheck(secret, rec.initId), 'base64');
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /**
   * Replaces the key shares (Vault's rekey); `secret` is the current set's combined secret, from a
   * quorum of its holders. `unseal` (Shamir seal): a new unseal key re-wraps the root key, so the
   * old shares stop opening it. `recovery` (HSM seal): a new recovery key, shared anew. One
   * conditional commit: nothing is written unless the seal record is still the one the shares were
   * checked against. Answers the new shares, once.
   */
  async rekey(target: 'unseal' | 'recovery', secret: Uint8Array, shares: number, threshold: number): Promise<{ keys: string[]; keysBase64: string[] }> {
    const rec = this.#requireRecord();
    assertShareParams(shares, threshold);
    const sealedMeanwhile = () => new ArcaError('ERR_SEALED', 'the server was sealed during the rekey; nothing was changed');
    if (this.#barrier.sealed) throw sealedMeanwhile();
    const current = await this.#raw.get(SEAL_CONFIG_PATH);
    // The shares were checked against the record in memory: storage must still hold that one.
    const stored = current && parseSealRecord(current);
    if (!current || !stored || !sameRecord(stored, rec)) throw this.#rekeyConflict();
    const next: SealRecord = { ...rec };
    const puts: [string, Uint8Array][] = [];
    const expect: [string, Uint8Array | undefined][] = [[SEAL_CONFIG_PATH, current]];
    const fresh = randomKey();
    try {
      if (target === 'unseal') {
        if (!rec.unseal) throw new ArcaError('ERR_INVALID_REQUEST', 'this server auto-unseals with its HSM and has no unseal keys: rekey its recovery keys (sys/rekey-recovery-key)');
        const { blob, rootKey } = await this.#openRootKey(secret, rec.initId);
        if (!rootKey) throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', "rekey failed: the combined keys did not open the root key (they are not this server's); nothing was changed");
        try {
          puts.push([ROOT_KEY_PATH, seal(fresh, rootKey, rootAad(rec.initId))]);
        } finally {
          wipe(rootKey);
        }
        expect.push([ROOT_KEY_PATH, blob]);
      } else if (!rec.recovery) {
        throw new ArcaError('ERR_INVALID_REQUEST', 'recovery keys exist only with the HSM seal; this server unseals with unseal keys (sys/rekey)');
      } else if (!this.#isRecoveryKey(stored, secret)) {
        throw new ArcaError('ERR_SEAL_UNSEAL_FAILED', "rekey failed: the combined keys are not this server's current recovery keys; nothing was changed");
      }
      const made = await makeShares(fresh, shares, threshold);
      if (target === 'unseal') next.unseal = made.set;
      else {
        next.recovery = made.set;
        next.recoveryCheck = recoveryCheck(fresh, rec.initId);
      }
      puts.push([SEAL_CONFIG_PATH, encodeSealRecord(next)]);
      if (this.#barrier.sealed) {
        wipe(...made.shares);
        throw sealedMeanwhile();
      }
      if (!(await this.#raw.commit({ puts, expect }))) {
        wipe(...made.shares);
        throw this.#rekeyConflict();
      }
      this.#record = next;
      if (next.unseal) this.#collector = new ShareCollector(next.unseal);
      this.#log.warn({ target, shares, threshold }, 'key shares replaced (rekey): the old shares no longer count');
      const out = { keys: made.shares.map(toHex), keysBase64: made.shares.map(toB64) };
      wipe(...made.shares);
      return out;
    } finally {
      wipe(fresh);
    }
  }

  #rekeyConflict(): ArcaError {
    return new ArcaError('ERR_STORAGE_CONFLICT', 'the seal configuration changed during the rekey (another replica rekeyed?); nothing was changed: read the status and start again');
  }

  /**
   * Re-reads the seal record when storage holds another one than this process knows (another
   * replica rekeyed while this one ran): answers whether it changed. The unseal progress restarts.
   */
  async #reloadIfChanged(): Promise<boolean> {
    const stored = await readSealRecord(this.#raw);
    if (!stored || !this.#record || sameRecord(stored, this.#record)) return false;
    await this.load();
    return true;
  }

  resetProgress(): void {
    this.#collector?.reset();
  }

  #requireRecord(): SealRecord {
    if (!this.#record) throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
    return this.#record;
  }
}
