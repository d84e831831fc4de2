/**
 * Audit wiring: the core's AuditSink over the AuditBroker, plus Vault's `sys/audit` (enable, disable,
 * list — sudo) and `sys/audit-hash/:path`. Device configs and the audit keys (HMAC + Ed25519 signing)
 * live inside the barrier; spools live in a local directory so a slow or dead device never stalls
 * requests, and a request fails closed only if no device and no spool can persist its entry.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type EngineRouter, ignoredFieldsResponse, parseFields } from '../../engines/index.ts';
import { type AuditDevice, AuditBroker, type AuditInput, FileDevice, fileDevicePath, generateAuditKeys, SocketDevice, StdoutDevice } from '../../audit/index.ts';
import { readAuditLogRoute } from './audit-log.ts';
import type { Logger } from '../../log/index.ts';
import { StorageView, type Storage } from '../../storage/index.ts';
import type { AuditRecord, AuditSink } from '../core.ts';
import type { SystemExtension } from './system.ts';

interface DeviceConfig {
  path: string; // e.g. 'file/' (Vault's audit device path, with trailing slash)
  type: 'file' | 'socket' | 'stdout';
  description: string;
  options: Record<string, string>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function buildDevice(c: DeviceConfig): AuditDevice {
  switch (c.type) {
    case 'file': {
      const path = fileDevicePath(c.options);
      if (!path) throw new ArcaError('ERR_INVALID_REQUEST', 'file audit device needs options.file_path');
      return new FileDevice({ name: c.path, path });
    }
    case 'socket': {
      const addr = c.options['address'];
      if (!addr) throw new ArcaError('ERR_INVALID_REQUEST', 'socket audit device needs options.address (host:port or a unix socket path)');
      const m = /^(.+):(\d+)$/.exec(addr);
      return new SocketDevice({ name: c.path, address: m && !addr.startsWith('/') ? { host: m[1]!, port: Number(m[2]) } : { path: addr } });
    }
    case 'stdout':
      return new StdoutDevice({ name: c.path });
  }
}

// Request schemas, built once (a zod v4 schema compiles its fast path on first use).
const EnableFields = z.object({
  type: z.enum(['file', 'socket', 'stdout']),
  description: z.string().optional(),
  options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
});
const HashFields = z.object({ input: z.string() });
/** What `vault audit enable` sends: `local` is a Vault field Arca does not use, so it gets no warning. */
const AUDIT_ENABLE_FIELDS = [...Object.keys(EnableFields.shape), 'local'];

/** Where the audit devices' config and the audit keys live, behind the barrier. */
export const AUDIT_CONFIG_PREFIX = 'sys/audit/';

export class AuditManager implements AuditSink, SystemExtension {
  readonly #storage: () => Storage;
  readonly #spoolDir: string;
  readonly #log: Logger;
  #broker: Promise<AuditBroker> | undefined;
  /** The broker once open: requests then log without awaiting the opening promise (two microtask hops each). */
  #ready: AuditBroker | undefined;
  #configs: DeviceConfig[] = [];

  constructor(storage: () => Storage, spoolDir: string, log: Logger) {
    this.#storage = () => new StorageView(storage(), AUDIT_CONFIG_PREFIX);
    this.#spoolDir = spoolDir;
    this.#log = log.child({ component: 'audit' });
  }

  /** Opens the broker with the keys and devices stored in the barrier (after unseal). */
  async start(): Promise<void> {
    const opening = this.#open();
    this.#broker = opening;
    const b = await opening;
    if (this.#broker === opening) this.#ready = b;
  }

  async #open(): Promise<AuditBroker> {
    const s = this.#storage();
    let keysRaw = await s.get('keys');
    if (!keysRaw) {
      const k = generateAuditKeys();
      const fresh = enc.encode(JSON.stringify({ hmacKey: Buffer.from(k.hmacKey).toString('base64'), signingKey: Buffer.from(k.signingKey).toString('base64') }));
      keysRaw = (await s.putIf('keys', fresh, undefined)) ? fresh : await s.get('keys');
    }
    const keys = JSON.parse(dec.decode(keysRaw!)) as { hmacKey: string; signingKey: string };
    const cfg = await s.get('devices');
    this.#configs = cfg ? (JSON.parse(dec.decode(cfg)) as DeviceConfig[]) : [];
    return AuditBroker.open({
      hmacKey: new Uint8Array(Buffer.from(keys.hmacKey, 'base64')),
      signingKey: new Uint8Array(Buffer.from(keys.signingKey, 'base64')),
      spoolDir: this.#spoolDir,
      devices: this.#configs.map(buildDevice),
      log: this.#log,
    });
  }

  async stop(): Promise<void> {
    const b = this.#broker;
    this.#broker = undefined;
    this.#ready = undefined;
    if (b) await (await b).close();
  }

  async reopen(): Promise<void> {
    if (this.#broker) await (await this.#broker).reopen();
  }

  async #b(): Promise<AuditBroker> {
    if (!this.#broker) throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    return this.#broker;
  }

  request(e: AuditRecord): Promise<void> {
    return this.#emit({ type: 'request', request: this.#req(e), sensitiveFields: e.sensitive });
  }

  response(e: AuditRecord & { status: number; response?: Record<string, unknown> | null; error?: string }): Promise<void> {
    return this.#emit({
      type: 'response', request: this.#req(e), sensitiveFields: e.sensitive,
      response: { status: e.status, data: e.response ?? undefined }, ...(e.error ? { error: e.error } : {}),
    });
  }

  /** Logs through the open broker directly, else once it is open (or ERR_SEALED); failures always as a rejection. */
  #emit(input: AuditInput): Promise<void> {
    const b = this.#ready;
    if (!b) return this.#b().then((opened) => opened.log(input));
    try {
      return b.log(input);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #req(e: AuditRecord) {
    return {
      id: e.req.id, operation: e.req.operation, path: e.req.path, clientAddr: e.req.clientAddr, data: e.req.data,
      auth: e.auth ? { accessor: e.auth.accessor, policies: e.auth.policies, displayName: e.auth.displayName, entityId: e.auth.entityId } : undefined,
    };
  }

  /** Stores the device list; the list in memory follows only once it is stored. */
  async #save(configs: DeviceConfig[]): Promise<void> {
    await this.#storage().put('devices', enc.encode(JSON.stringify(configs)));
    this.#configs = configs;
  }

  register(router: EngineRouter): void {
    const list = async () => {
      const data: Record<string, unknown> = {};
      for (const c of this.#configs) data[c.path] = { type: c.type, description: c.description, options: c.options, path: c.path, local: false };
      return { data };
    };
    router
      .add('audit', { read: list })
      .add('audit/:path*', {
        update: async (r, p) => {
          const path = `${p['path']!.replace(/\/+$/, '')}/`;
          const f = parseFields(EnableFields, r.data);
          if (this.#configs.some((c) => c.path === path)) throw new ArcaError('ERR_INVALID_REQUEST', `path already in use: ${path}`);
          const cfg: DeviceConfig = { path, type: f.type, description: f.description ?? '', options: f.options ?? {} };
          const dev = buildDevice(cfg);
          const b = await this.#b();
          await b.addDevice(dev);
          try {
            await this.#save([...this.#configs, cfg]);
          } catch (err) {
            // Not stored, so not enabled: the device stops again (a retry starts it afresh).
            await b.removeDevice(path).catch(() => undefined);
            throw err;
          }
          return ignoredFieldsResponse(AUDIT_ENABLE_FIELDS, r.data);
        },
        delete: async (_r, p) => {
          const path = `${p['path']!.replace(/\/+$/, '')}/`;
          // Stored first: a failed write leaves the device enabled and writing, as the stored config says.
          if (this.#configs.some((c) => c.path === path)) await this.#save(this.#configs.filter((c) => c.path !== path));
          await (await this.#b()).removeDevice(path);
          return undefined;
        },
      })
      // Arca's (no Vault equivalent): read a file device back for the UI's Audit page.
      .add('audit-log', {
        read: async (r) => {
          const data = await readAuditLogRoute(r.id, r.data, this.#configs, await this.#b());
          // The entries are in the log already: the audit entry of this read says how many it returned.
          const { entries, ...rest } = data;
          return { data: { ...data }, auditData: { ...rest, entries_returned: entries.length } };
        },
      })
      // Arca's (no Vault equivalent): sign the log now, so `arca audit verify` can prove a live log
      // up to this point instead of reporting its tail as not proven.
      .add('audit-checkpoint', {
        update: async (r) => {
          const b = await this.#b();
          // Written after this request's response entry, before the response leaves the server.
          b.checkpointAfterResponse(r.id);
          return { data: { devices: b.deviceNames() } };
        },
      })
      .add('audit-hash/:path*', {
        update: async (r) => {
          const { input } = parseFields(HashFields, r.data);
          return { data: { hash: (await this.#b()).hash(input) } };
        },
      });
  }
}
