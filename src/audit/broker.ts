import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { AuditDevice } from './devices/types.ts';
import type { AuditInput, HeaderReason } from './entry.ts';
import { auditHmac, DEFAULT_SENSITIVE_FIELDS, redact } from './hmac.ts';
import { DevicePipe } from './pipe.ts';
import { Spool } from './spool.ts';
import { auditChainRestarts, auditCheckpointFailures } from './metrics.ts';
import { type CheckpointSigner, checkpointMessage, createSigner, GENESIS_PREV, lineHash, restartMessage } from './signing.ts';

export interface AuditBrokerOptions {
  /** Per-server HMAC key for sensitive values (also answers `sys/audit-hash`). */
  hmacKey: Uint8Array;
  /** Ed25519 PKCS#8 DER private key signing checkpoints. */
  signingKey: Uint8Array;
  /** Local directory for the per-device spools and the chain state. */
  spoolDir: string;
  devices?: readonly AuditDevice[];
  /** Write a signed checkpoint after this many entries (default 1000). */
  checkpointEvery?: number;
  /** ...and at least this often while entries arrive (default 60 s; 0 disables the timer). */
  checkpointIntervalMs?: number;
  /** Field names HMAC'd in every entry (default DEFAULT_SENSITIVE_FIELDS). */
  sensitiveFields?: readonly string[];
  /** Without a working spool, how long `log()` waits for a device (default 2 s). */
  directTimeoutMs?: number;
  /** Upper bound of the retry backoff for a failing device (default 1 s). */
  retryMaxMs?: number;
  now?: () => Date;
  log?: Logger;
}

const CHAIN_STATE = 'chain-state.json';

function unavailable(): ArcaError {
  return new ArcaError('ERR_AUDIT_UNAVAILABLE', 'the request could not be audited: no audit device or spool accepted the entry; check the enabled devices (sys/audit) and the spool directory under the data dir');
}

function spoolName(deviceName: string): string {
  const safe = deviceName.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40);
  return `${safe}-${createHash('sha256').update(deviceName).digest('hex').slice(0, 8)}`;
}

function parseChainPoint(line: string | undefined): { seq: number; prev: string } | undefined {
  if (!line) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v === 'object' && v !== null && 'seq' in v && Number.isSafeInteger(v.seq)) {
      return { seq: v.seq as number, prev: lineHash(line) };
    }
  } catch {
    // not a line we wrote
  }
  return undefined;
}

/**
 * Formats, HMACs, hash-chains and signs audit entries, and hands each line to every device through its
 * durable spool. `log()` resolves once the line is durable in at least one spool (or, without spools, in a
 * device); if nothing could persist it, it rejects with ERR_AUDIT_UNAVAILABLE so the request fails closed.
 * With no device enabled, `log()` is a no-op (Vault's behaviour).
 */
export class AuditBroker {
  readonly #opts: AuditBrokerOptions;
  readonly #signer: CheckpointSigner;
  readonly #hmacKey: Uint8Array;
  readonly #sensitive: readonly string[];
  readonly #pipes = new Map<string, DevicePipe>();
  #seq: number;
  #prev: string;
  #sinceCheckpoint = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Why the next line must be a signed `chain-restart` header: the chain position could not be read
   * at open, or an emitted line reached no device (its successor's `prev` would point at nothing).
   * Without the marker `verify` would report the break as tampering; with it, as a restart.
   */
  #restartPending: string | undefined;
  #checkpointFailures = 0;
  #chainRestarts = 0;
  /** Request ids whose response entry is to be followed at once by a checkpoint. */
  readonly #checkpointAfter = new Set<string>();

  private constructor(opts: AuditBrokerOptions, seq: number, prev: string) {
    this.#opts = opts;
    this.#signer = createSigner(opts.signingKey);
    this.#hmacKey = new Uint8Array(opts.hmacKey);
    this.#sensitive = opts.sensitiveFields ?? DEFAULT_SENSITIVE_FIELDS;
    this.#seq = seq;
    this.#prev = prev;
    const every = opts.checkpointIntervalMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        if (this.#sinceCheckpoint > 0 && this.#pipes.size > 0) this.#checkpointInBackground();
      }, every);
      this.#timer.unref();
    }
  }

  /** Recovers the chain (last seq and hash) from the spools and starts the devices with a `start` header. */
  static async open(opts: AuditBrokerOptions): Promise<AuditBroker> {
    if (opts.hmacKey.length < 16) throw new ArcaError('ERR_CRYPTO_INVALID_KEY', 'audit HMAC key must be at least 16 bytes');
    const points: { seq: number; prev: string }[] = [];
    // Sources of the chain position that exist but could not be read: the position found may be
    // behind the real one, so the chain restarts (signed marker) instead of silently forking.
    const unreadable: string[] = [];
    const missing = (err: unknown) => (err as { code?: unknown }).code === 'ENOENT';
    try {
      const v: unknown = JSON.parse(await readFile(join(opts.spoolDir, CHAIN_STATE), 'utf8'));
      if (typeof v === 'object' && v !== null && 'seq' in v && 'prev' in v && Number.isSafeInteger(v.seq) && typeof v.prev === 'string') {
        points.push({ seq: v.seq as number, prev: v.prev });
      } else unreadable.push(CHAIN_STATE);
    } catch (err) {
      // ENOENT: first start, or no state written yet
      if (!missing(err)) unreadable.push(CHAIN_STATE);
    }
    let dirs: string[] = [];
    try {
      dirs = (await readdir(opts.spoolDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      // missing spool dir: first start; unreadable: devices will run without spools
      if (!missing(err)) unreadable.push('spool directory');
    }
    for (const d of dirs) {
      try {
        const sp = await Spool.open(join(opts.spoolDir, d));
        const p = parseChainPoint(await sp.lastLine());
        await sp.close();
        if (p) points.push(p);
      } catch {
        unreadable.push(`spool ${d}`);
      }
    }
    // A file device holds the chain position too (useful if the spool directory was lost).
    for (const d of opts.devices ?? []) {
      let last: string | undefined;
      try {
        last = await d.lastLine?.();
      } catch (err) {
        if (!missing(err)) unreadable.push(`device ${d.name}`);
      }
      const p = parseChainPoint(last);
      if (p) points.push(p);
    }
    const best = points.reduce<{ seq: number; prev: string }>((a, b) => (b.seq > a.seq ? b : a), { seq: 0, prev: GENESIS_PREV });
    const broker = new AuditBroker(opts, best.seq, best.prev);
    if (unreadable.length > 0) {
      opts.log?.error({ sources: unreadable }, 'audit chain state unreadable; the chain restarts with a signed marker');
      broker.#restartPending = 'unreadable chain state';
    }
    try {
      for (const d of opts.devices ?? []) await broker.#attach(d);
      // The restart marker is itself a header: it replaces the start header.
      if (broker.#pipes.size > 0) await (broker.#restartPending ? broker.#restart() : broker.#header('start'));
    } catch (err) {
      await broker.close(0).catch(() => {});
      throw err;
    }
    return broker;
  }

  get publicKey(): string {
    return this.#signer.publicKey;
  }
  get keyId(): string {
    return this.#signer.keyId;
  }
  /** Sequence number of the last entry written. */
  get seq(): number {
    return this.#seq;
  }

  /** `sys/audit-hash`: the HMAC an operator searches the log for. */
  hash(input: string): string {
    return auditHmac(this.#hmacKey, input);
  }

  deviceNames(): string[] {
    return [...this.#pipes.keys()];
  }

  /** Health per device: whether its spool works and how many writes failed in a row. */
  status(): { name: string; type: string; spool: boolean; drained: boolean; failures: number }[] {
    return [...this.#pipes.values()].map((p) => ({
      name: p.device.name,
      type: p.device.type,
      spool: p.spoolOk,
      drained: p.drained,
      failures: p.failures,
    }));
  }

  async #attach(device: AuditDevice): Promise<void> {
    if (this.#pipes.has(device.name)) throw new ArcaError('ERR_INVALID_REQUEST', `audit device "${device.name}" already exists`);
    const pipe = await DevicePipe.create(device, join(this.#opts.spoolDir, spoolName(device.name)), {
      directTimeoutMs: this.#opts.directTimeoutMs ?? 2000,
      maxMemoryLines: 100_000,
      retryMinMs: 20,
      retryMaxMs: this.#opts.retryMaxMs ?? 1000,
      log: this.#opts.log,
    });
    this.#pipes.set(device.name, pipe);
  }

  /** Enables a device; its first line is a `device-added` header carrying the public key. */
  async addDevice(device: AuditDevice): Promise<void> {
    this.#assertOpen();
    await this.#attach(device);
    await this.#header('device-added');
  }

  /** Disables a device: stops it and deletes its spool (undelivered lines for it are dropped). */
  async removeDevice(name: string): Promise<boolean> {
    const pipe = this.#pipes.get(name);
    if (!pipe) return false;
    this.#pipes.delete(name);
    await pipe.stop();
    await this.#saveChainState();
    await rm(join(this.#opts.spoolDir, spoolName(name)), { recursive: true, force: true }).catch(() => {});
    return true;
  }

  #assertOpen(): void {
    if (this.#closed) throw unavailable();
  }

  /** Appends one chained line to every device; resolves when at least one persisted it. */
  #emit(body: Record<string, unknown>): Promise<void> {
    const restart = this.#restartPending && body['reason'] !== 'chain-restart' ? this.#restart() : undefined;
    const done = this.#emitLine(body);
    // The entry counts as persisted only if the marker before it was too.
    return restart ? Promise.all([restart, done]).then(() => {}) : done;
  }

  #emitLine(body: Record<string, unknown>): Promise<void> {
    const seq = this.#seq + 1;
    const line = JSON.stringify({ seq, ...body, prev: this.#prev });
    this.#seq = seq;
    this.#prev = lineHash(line);
    const pipes = [...this.#pipes.values()];
    return Promise.any(pipes.map((p) => p.persist(line))).then(
      () => {},
      () => {
        // No device has this line, but the next one will name it as `prev`: restart the chain there.
        this.#restartPending ??= 'an entry reached no device';
        throw unavailable();
      },
    );
  }

  /** Writes the signed chain-restart header (a header: it also carries the public key). */
  #restart(): Promise<void> {
    const reason = this.#restartPending ?? 'requested';
    this.#restartPending = undefined;
    this.#chainRestarts++;
    auditChainRestarts.inc({ reason });
    this.#opts.log?.error({ reason, seq: this.#seq + 1 }, 'audit chain restarted');
    const seq = this.#seq + 1;
    const time = this.#now();
    return this.#emitLine({
      type: 'header',
      reason: 'chain-restart',
      time,
      format: 'arca-audit/v1',
      hmac: 'hmac-sha256',
      key_id: this.#signer.keyId,
      public_key: this.#signer.publicKey,
      restart_cause: reason,
      sig: this.#signer.sign(restartMessage(seq, time, this.#prev)),
    });
  }

  /** Failed checkpoints and chain restarts since this broker opened (also in the audit metrics). */
  problems(): { checkpointFailures: number; chainRestarts: number } {
    return { checkpointFailures: this.#checkpointFailures, chainRestarts: this.#chainRestarts };
  }

  /** A checkpoint nobody awaits (count, timer): its failure is logged and counted, never dropped. */
  #checkpointInBackground(): void {
    this.checkpoint().catch((err: unknown) => this.#checkpointFailed(err));
  }

  #checkpointFailed(err: unknown): void {
    this.#checkpointFailures++;
    auditCheckpointFailures.inc();
    this.#opts.log?.error({ err: (err as { code?: string }).code ?? String(err), seq: this.#seq }, 'audit checkpoint could not be persisted');
  }

  #now(): string {
    return (this.#opts.now?.() ?? new Date()).toISOString();
  }

  #header(reason: HeaderReason): Promise<void> {
    return this.#emit({
      type: 'header',
      reason,
      time: this.#now(),
      format: 'arca-audit/v1',
      hmac: 'hmac-sha256',
      key_id: this.#signer.keyId,
      public_key: this.#signer.publicKey,
    });
  }

  /**
   * Writes a signed checkpoint now (also done every `checkpointEvery` entries, on reopen and on close,
   * and on demand through `sys/audit-checkpoint`). Rejects with ERR_AUDIT_UNAVAILABLE if no device or
   * spool persisted it.
   */
  checkpoint(): Promise<void> {
    if (this.#closed || this.#pipes.size === 0) return Promise.resolve();
    this.#sinceCheckpoint = 0;
    // A pending restart marker goes first, so the checkpoint's seq and prev are the ones it signs.
    const restart = this.#restartPending ? this.#restart() : undefined;
    const seq = this.#seq + 1;
    const time = this.#now();
    const sig = this.#signer.sign(checkpointMessage(seq, time, this.#prev));
    const done = this.#emitLine({ type: 'checkpoint', time, key_id: this.#signer.keyId, sig });
    return restart ? Promise.all([restart, done]).then(() => {}) : done;
  }

  /**
   * `sys/audit-checkpoint`: the checkpoint goes right after that request's own response entry, so a
   * log quiet after the call ends with a checkpoint (one written inside the handler would be followed
   * by the unsigned response entry).
   */
  checkpointAfterResponse(requestId: string): void {
    if (this.#closed || this.#pipes.size === 0) return;
    this.#checkpointAfter.add(requestId);
  }

  /** Audits one request or response. Call for every request and every response, centrally. */
  log(input: AuditInput): Promise<void> {
    if (this.#closed) return Promise.reject(unavailable());
    if (this.#pipes.size === 0) return Promise.resolve();
    const sensitive = input.sensitiveFields ? [...this.#sensitive, ...input.sensitiveFields] : this.#sensitive;
    const r = input.request;
    const body: Record<string, unknown> = {
      type: input.type,
      time: this.#now(),
      request: {
        id: r.id,
        operation: r.operation,
        path: r.path,
        client_addr: r.clientAddr,
        auth: r.auth ? { accessor: r.auth.accessor, policies: [...r.auth.policies], display_name: r.auth.displayName, entity_id: r.auth.entityId ?? '' } : null,
        data: r.data === undefined ? null : redact(r.data, this.#hmacKey, sensitive),
      },
    };
    if (input.type === 'response' || input.response) {
      body['response'] = input.response
        ? { status: input.response.status, data: input.response.data === undefined ? null : redact(input.response.data, this.#hmacKey, sensitive) }
        : null;
    }
    if (input.error !== undefined) body['error'] = input.error;
    const done = this.#emit(body);
    if (input.type === 'response' && this.#checkpointAfter.delete(r.id)) {
      // The entry and the checkpoint after it are persisted before the caller hears back.
      return Promise.all([done, this.checkpoint()]).then(() => {});
    }
    if (++this.#sinceCheckpoint >= (this.#opts.checkpointEvery ?? 1000)) this.#checkpointInBackground();
    return done;
  }

  /**
   * After log rotation (SIGHUP): a checkpoint ends the old file, then each device reopens its target and
   * starts the new file with a `reopen` header whose `prev` links to the old file's last line.
   */
  async reopen(): Promise<void> {
    this.#assertOpen();
    if (this.#pipes.size === 0) return;
    await this.checkpoint();
    await this.#header('reopen');
  }

  /** Waits until every device has received everything logged so far; false on timeout. */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const results = await Promise.all([...this.#pipes.values()].map((p) => p.waitDrained(timeoutMs)));
    return results.every(Boolean);
  }

  async #saveChainState(): Promise<void> {
    const tmp = join(this.#opts.spoolDir, `${CHAIN_STATE}.tmp`);
    try {
      await writeFile(tmp, JSON.stringify({ seq: this.#seq, prev: this.#prev }), { mode: 0o600 });
      await rename(tmp, join(this.#opts.spoolDir, CHAIN_STATE));
    } catch {
      // best effort: the spools also carry the chain position
    }
  }

  /**
   * Clean shutdown: a final checkpoint (so `verify` sees a complete log), up to `timeoutMs` for devices to
   * drain (the rest stays spooled for the next start), then devices and spools are closed.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    await this.checkpoint().catch((err: unknown) => this.#checkpointFailed(err));
    this.#closed = true;
    await this.flush(timeoutMs);
    for (const p of this.#pipes.values()) await p.stop();
    this.#pipes.clear();
    await this.#saveChainState();
    this.#hmacKey.fill(0);
  }
}
