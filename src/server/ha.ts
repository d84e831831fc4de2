/**
 * HA wiring for PostgreSQL storage: the lease + fence, the manager's callbacks into the core, and the
 * standby's forwarder (or redirector) for the HTTP adapter.
 */
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/index.ts';
import type { Core } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';
import { FencedStorage, forwardRequest, type ForwardResult, HaManager, PgLease, signClientAddr } from '../ha/index.ts';
import { StorageView } from '../storage/index.ts';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/index.ts';
import type { OpenedStorage } from './assemble.ts';

export interface HaWiring {
  storage: FencedStorage;
  manager: HaManager;
  /** Key authenticating forwarded client addresses (inside the barrier; undefined while sealed). */
  forwardKey(): Promise<Uint8Array | undefined>;
  forwarder(mode: 'forward' | 'redirect'): (req: FastifyRequest) => Promise<ForwardResult | undefined>;
}

export async function setupHa(opened: OpenedStorage, replicaId: string, c: Readonly<ServerConfig>, log: Logger, core: () => Core): Promise<HaWiring> {
  const pg = opened.pg!;
  const lease = new PgLease(pg.url, pg.table, pg.password);
  try {
    await lease.setup();
  } catch (err) {
    await lease.close();
    await opened.storage.close();
    throw err;
  }
  const apiAddr = c.apiAddr ?? `${c.tls ? 'https' : 'http'}://${c.listen}`;
  let manager: HaManager | undefined;
  const storage = new FencedStorage(opened.storage, () => manager?.fenced());
  manager = new HaManager(lease, {
    id: replicaId,
    apiAddr,
    leaseSeconds: c.ha.leaseSeconds,
    log,
    callbacks: {
      canCampaign: () => core().state === 'unsealed',
      becomeActive: () => core().becomeActive(),
      becomeStandby: () => core().becomeStandby(),
    },
  });
  const m = manager;
  let cachedKey: Uint8Array | undefined;
  const forwardKey = async (): Promise<Uint8Array | undefined> => {
    if (core().state !== 'unsealed') return undefined;
    if (cachedKey) return cachedKey;
    const view = new StorageView(core().barrier, 'sys/ha/');
    let k = await view.get('forward-key');
    if (!k) {
      const fresh = new Uint8Array(randomBytes(32));
      k = (await view.putIf('forward-key', fresh, undefined).catch(() => false)) ? fresh : await view.get('forward-key');
    }
    cachedKey = k;
    return k;
  };
  return {
    storage,
    manager: m,
    forwardKey,
    forwarder: (mode) => async (req) => {
      if (m.isActive) return undefined;
      // A sealed or uninitialized replica answers for itself (503 sealed / init locally).
      if (core().state !== 'unsealed') return undefined;
      let leader = await m.leaderAddress();
      // No known leader (e.g. the active just stepped down and released its lease): run election
      // rounds until some replica — possibly this one — holds the lease, within one lease period.
      const deadline = Date.now() + c.ha.leaseSeconds * 1000;
      while (!leader && Date.now() < deadline) {
        await m.settle();
        if (m.isActive) return undefined;
        leader = await m.leaderAddress();
        if (!leader) await new Promise((r) => setTimeout(r, 200));
      }
      if (!leader) throw new ArcaError('ERR_HA_STANDBY', 'this replica is a standby and no active replica is known; retry shortly');
      if (mode === 'redirect') return { status: 307, headers: { location: new URL(req.url, leader).toString() }, body: Buffer.alloc(0) };
      const body = Buffer.isBuffer(req.body) ? req.body : undefined;
      const key = await forwardKey();
      return forwardRequest(leader, req.method, req.url, req.headers, body, apiAddr, key ? signClientAddr(key, req.id, req.ip) : {});
    },
  };
}
