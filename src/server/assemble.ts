/**
 * Builds a running server from a validated config: storage → seal → core (+ engines) → HTTP.
 * Used by `arca server` and by tests that need a real server in-process.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/index.ts';
import { Core, createSystemEngine, createTokenEngine, type EngineRegistry } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';
import { buildHttpServer } from '../http/index.ts';
import type { Logger } from '../log/index.ts';
import type { AutoSeal } from '../seal/index.ts';
import type { KeyBackend } from '../keys/backend.ts';
import { InmemStorage, lockDataDir, PostgresStorage, SqliteStorage, type Storage } from '../storage/index.ts';
import { registerEngines } from './engines.ts';
import { setupHa } from './ha.ts';
import { sealRefresher } from './seal-refresh.ts';
import { CLIENT_ADDR_HEADER, verifiedClientAddr } from '../ha/index.ts';
import { randomUUID } from 'node:crypto';

export interface RunningServer {
  core: Core;
  /** Reopens audit files (log rotation; SIGHUP). */
  reopenAudit(): Promise<void>;
  app: FastifyInstance;
  address: string;
  close(): Promise<void>;
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ArcaError('ERR_CONFIG_READ', `cannot read ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export interface OpenedStorage {
  storage: Storage;
  type: string;
  /** For PostgreSQL: what the HA lease needs to reach the same database. */
  pg?: { url: string; password: string | undefined; table: string };
}

/** PostgreSQL sessions are named after the replica, which is how the HA fence tells writers apart. */
function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

export async function openStorage(c: Readonly<ServerConfig>, dataDir: string | undefined, replicaId?: string): Promise<OpenedStorage> {
  switch (c.storage.type) {
    case 'inmem':
      return { storage: new InmemStorage(), type: 'inmem' };
    case 'sqlite': {
      if (c.storage.path) return { storage: SqliteStorage.open(c.storage.path), type: 'sqlite' };
      if (!dataDir) throw new ArcaError('ERR_CONFIG_INVALID', 'storage sqlite needs dataDir (or --data-dir) or storage.path');
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      return { storage: SqliteStorage.openInDir(dataDir), type: 'sqlite' };
    }
    case 'postgres': {
      const base = c.storage.url ?? readSecretFile(c.storage.urlFile!, 'storage.urlFile');
      const password = c.storage.passwordFile ? readSecretFile(c.storage.passwordFile, 'storage.passwordFile') : process.env['PGPASSWORD'];
      const url = replicaId ? withApplicationName(base, replicaId) : base;
      return {
        storage: await PostgresStorage.open({ url, password, table: c.storage.table, maxConnections: c.storage.maxConnections }),
        type: 'postgres',
        pg: { url: base, password, table: c.storage.table },
      };
    }
  }
}

export async function openAutoSeal(c: Readonly<ServerConfig>): Promise<AutoSeal | undefined> {
  if (c.seal.type !== 'pkcs11') return undefined;
  const pin = c.seal.pinFile ? readSecretFile(c.seal.pinFile, 'seal.pinFile') : process.env['ARCA_PKCS11_PIN'];
  if (!pin) throw new ArcaError('ERR_CONFIG_INVALID', 'seal.pkcs11 needs a PIN: set seal.pinFile or ARCA_PKCS11_PIN');
  const { Pkcs11Seal } = await import('../seal/pkcs11-seal.ts');
  return Pkcs11Seal.open({ module: c.seal.module, tokenLabel: c.seal.tokenLabel, pin, keyLabel: c.seal.keyLabel, generateKey: c.seal.generateKey });
}

/** The HSM key backend for transit `hsm-aes256-gcm96` keys, when `keys.pkcs11` is configured. */
export async function openHsmKeys(c: Readonly<ServerConfig>): Promise<KeyBackend | undefined> {
  const k = c.keys.pkcs11;
  if (!k) return undefined;
  const pin = k.pinFile ? readSecretFile(k.pinFile, 'keys.pkcs11.pinFile') : process.env['ARCA_PKCS11_PIN'];
  if (!pin) throw new ArcaError('ERR_CONFIG_INVALID', 'keys.pkcs11 needs a PIN: set keys.pkcs11.pinFile or ARCA_PKCS11_PIN');
  const { HsmKeyBackend } = await import('../keys/pkcs11/hsm-key-backend.ts');
  return HsmKeyBackend.open({ module: k.module, tokenLabel: k.tokenLabel, pin });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';
}

/** For embedding Arca (and tests that must reach the storage under it): a Storage used instead of `c.storage`. */
export interface AssembleOptions {
  storage?: Storage;
}

export async function assembleServer(c: Readonly<ServerConfig>, log: Logger, dataDir?: string, opts: AssembleOptions = {}): Promise<RunningServer> {
  const dir = dataDir ?? c.dataDir;
  // First, before anything writes into the directory (SQLite file, audit spool).
  const lock = dir ? lockDataDir(dir) : undefined;
  try {
    const srv = await assembleLocked(c, log, dir, opts);
    return {
      ...srv,
      async close() {
        try {
          await srv.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

async function assembleLocked(c: Readonly<ServerConfig>, log: Logger, dataDir: string | undefined, opts: AssembleOptions): Promise<RunningServer> {
  const [host, portStr] = splitHostPort(c.listen);
  if (!c.tls && !isLoopback(host)) {
    throw new ArcaError('ERR_CONFIG_INVALID', `listen: plaintext HTTP is only allowed on loopback; configure tls.certFile/tls.keyFile to listen on ${host}`);
  }
  const replicaId = `arca-${randomUUID()}`;
  const opened: OpenedStorage = opts.storage ? { storage: opts.storage, type: 'embedded' } : await openStorage(c, dataDir, replicaId);
  const { type } = opened;
  // With PostgreSQL several replicas may share the database: one active, fenced by a lease.
  const ha = opened.pg ? await setupHa(opened, replicaId, c, log, () => core) : undefined;
  const storage = ha ? ha.storage : opened.storage;
  let autoSeal: AutoSeal | undefined;
  let hsmKeys: KeyBackend | undefined;
  try {
    autoSeal = await openAutoSeal(c);
    hsmKeys = await openHsmKeys(c);
  } catch (err) {
    await autoSeal?.close();
    await storage.close();
    throw err;
  }
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, core) => createSystemEngine(core, extensions));
  engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
  const spoolBase = dataDir ?? mkdtempSync(join(tmpdir(), 'arca-audit-'));
  const { extensions, defaultMounts, authorizer, audit, onReload, identity, governance } = await registerEngines(engines, { auditSpoolDir: join(spoolBase, 'audit-spool'), log, hsmKeys });
  const core: Core = new Core({
    raw: storage, log, storageType: type, engines, defaultMounts, ha: ha !== undefined, sweepIntervalMs: c.expirySweep.intervalSeconds * 1000, ...(onReload ? { onReload } : {}),
    ...(autoSeal ? { autoSeal } : {}), ...(authorizer ? { authorizer: authorizer((): Core => core) } : {}), ...(audit ? { audit } : {}), ...(identity ? { identity } : {}), ...(governance ? { governance } : {}),
  });
  try {
    await core.start();
  } catch (err) {
    await autoSeal?.close();
    await ha?.manager.stop();
    await storage.close();
    throw err;
  }
  const app = buildHttpServer({
    core, log, tls: c.tls, ui: c.ui.enabled ? { dir: c.ui.dir } : false,
    ...(c.apiAddr ? { apiAddr: c.apiAddr } : {}),
    ...(ha ? { ha: () => ha.manager.view(), members: () => ha.manager.members(), forward: ha.forwarder(c.ha.standbyMode), stepDown: () => ha.manager.stepDown(), leaderAddress: () => ha.manager.leaderAddress(), clientAddr: async (req) => (req.headers[CLIENT_ADDR_HEADER] === undefined ? undefined : verifiedClientAddr(await ha.forwardKey(), req.headers)) } : {}),
  });
  const seal = sealRefresher(core, log);
  // Before routing, so every endpoint (seal status, unseal, init, health) answers from a fresh record.
  // Synchronous once initialized: an async hook is a promise and a microtask hop on every request.
  app.addHook('onRequest', (_req, _reply, done) => {
    if (core.state !== 'uninitialized') return done();
    seal.refresh().then(() => done(), done);
  });
  const address = await app.listen({ host: host.replace(/^\[|\]$/g, ''), port: Number(portStr) });
  ha?.manager.start();
  if (ha) seal.poll(1000);
  return {
    core,
    app,
    address,
    reopenAudit: () => audit.reopen(),
    async close() {
      seal.stop();
      await ha?.manager.stop();
      await app.close();
      await core.close();
      await hsmKeys?.close();
    },
  };
}

export function splitHostPort(hp: string): [string, string] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), hp.slice(i + 1)];
}
