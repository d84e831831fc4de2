/**
 * Vault's raw (non-envelope) sys endpoints that answer before there is a token to check: init,
 * seal-status, unseal, health, leader. Everything that needs a token (sys/seal, sys/step-down,
 * sys/metrics) goes through the core's pipeline instead (see core-routes.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import type { Core } from '../core/index.ts';
import { vBool, vInt, vIntIn, parseFields } from '../engines/index.ts';
import { parseBody } from './body.ts';

export const ARCA_VERSION = '0.1.0';
const BUILD_DATE = '2026-11-22T00:00:00Z';

export interface RawDeps {
  core: Core;
  /** HA view of this replica (single-node: always active). */
  ha: () => { enabled: boolean; active: boolean; leaderAddress: string; activeSince: Date | undefined };
  clusterId: string;
  /** HA standby: forward (or redirect) a request the active must answer. */
  forward?: (req: FastifyRequest) => Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
  /** HA: the active's address, looked up when not yet known. */
  leaderAddress?: () => Promise<string>;
}

export function sealStatus(core: Core, storageType: string): Record<string, unknown> {
  const state = core.state;
  const rec = core.seal.record;
  const set = rec?.unseal ?? rec?.recovery;
  const col = core.seal.collector;
  const out: Record<string, unknown> = {
    type: core.seal.sealType,
    initialized: state !== 'uninitialized',
    sealed: state !== 'unsealed',
    t: set?.threshold ?? 0,
    n: set?.shares ?? 0,
    progress: col?.progress ?? 0,
    nonce: col?.nonce ?? '',
    version: ARCA_VERSION,
    build_date: BUILD_DATE,
    migration: false,
    recovery_seal: core.seal.sealType !== 'shamir',
    storage_type: storageType,
  };
  if (core.seal.sealType !== 'shamir') out['recovery_seal_type'] = 'shamir';
  if (state === 'unsealed') {
    out['cluster_name'] = 'arca-cluster';
    out['cluster_id'] = rec?.initId ?? '';
  }
  return out;
}

const InitFields = z.object({
  secret_shares: vInt.optional(),
  secret_threshold: vInt.optional(),
  recovery_shares: vInt.nullable().optional(),
  recovery_threshold: vInt.nullable().optional(),
  stored_shares: vInt.nullable().optional(),
  pgp_keys: z.array(z.string()).nullable().optional(),
  root_token_pgp_key: z.string().nullable().optional(),
  recovery_pgp_keys: z.array(z.string()).nullable().optional(),
});

/** sys/health's status overrides (uninitcode, sealedcode, standbycode, activecode). */
const HEALTH_CODE = z.record(z.string(), vIntIn(200, 599));

const body = (req: FastifyRequest) => parseBody(req.body as Buffer | undefined, req.headers['content-type']);

export function registerRawSys(app: FastifyInstance, d: RawDeps): void {
  const { core } = d;
  const status = () => sealStatus(core, core.storageType);

  app.get('/v1/sys/init', async () => ({ initialized: core.state !== 'uninitialized' }));
  const init = async (req: FastifyRequest, reply: FastifyReply) => {
    const fwd = await d.forward?.(req);
    if (fwd) return reply.code(fwd.status).headers(fwd.headers).send(fwd.body);
    const f = parseFields(InitFields, body(req));
    if (f.pgp_keys?.length || f.root_token_pgp_key || f.recovery_pgp_keys?.length) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'PGP-encrypted shares are not supported; omit pgp_keys');
    }
    const auto = core.seal.sealType !== 'shamir';
    if (!auto && (f.recovery_shares || f.recovery_threshold)) {
      throw new ArcaError('ERR_INVALID_REQUEST', 'parameters recovery_shares,recovery_threshold not applicable to seal type shamir');
    }
    const r = await core.init({
      secretShares: auto ? 1 : (f.secret_shares ?? 0),
      secretThreshold: auto ? 1 : (f.secret_threshold ?? 0),
      recoveryShares: f.recovery_shares || 5,
      recoveryThreshold: f.recovery_threshold || 3,
    });
    const out: Record<string, unknown> = { keys: r.keys, keys_base64: r.keysBase64, root_token: r.rootToken };
    if (auto) Object.assign(out, { recovery_keys: r.recoveryKeys, recovery_keys_base64: r.recoveryKeysBase64 });
    return out;
  };
  app.put('/v1/sys/init', init);
  app.post('/v1/sys/init', init);

  app.get('/v1/sys/seal-status', async () => status());

  const unseal = async (req: FastifyRequest) => {
    const raw = body(req);
    // Vault matches these field names case-insensitively.
    const pick = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
    const reset = pick('reset') === undefined ? false : parseFields(vBool, pick('reset'));
    if (pick('migrate') !== undefined && parseFields(vBool, pick('migrate'))) throw new ArcaError('ERR_INVALID_REQUEST', 'seal migration is not supported');
    if (core.state === 'uninitialized') throw new ArcaError('ERR_NOT_INITIALIZED', 'Vault is not initialized');
    if (reset) {
      if (core.state === 'unsealed') throw new ArcaError('ERR_INVALID_REQUEST', 'vault is unsealed');
      core.seal.resetProgress();
      return status();
    }
    const key = pick('key');
    if (key === undefined) throw new ArcaError('ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON, or 'reset' set to true");
    await core.submitUnsealKey(key, req.ip);
    return status();
  };
  app.put('/v1/sys/unseal', unseal);
  app.post('/v1/sys/unseal', unseal);

  const health = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Record<string, string>;
    // Any final status a client can read (Vault takes any integer; a code outside this range is not an HTTP answer).
    const code = (name: string, dflt: number) => (q[name] === undefined ? dflt : parseFields(HEALTH_CODE, { [name]: q[name] })[name]!);
    const okFlag = (name: string) => (q[name] === undefined ? false : parseFields(vBool, q[name] === '' ? 'true' : q[name]));
    const ha = d.ha();
    const state = core.state;
    const standby = state === 'unsealed' && !ha.active;
    let status: number;
    if (state === 'uninitialized') status = code('uninitcode', 501);
    else if (state === 'sealed') status = code('sealedcode', 503);
    else if (standby && !okFlag('standbyok')) status = code('standbycode', 429);
    else status = code('activecode', 200);
    const body: Record<string, unknown> = {
      initialized: state !== 'uninitialized',
      sealed: state !== 'unsealed',
      standby: state !== 'unsealed' || standby,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000),
      version: ARCA_VERSION,
      enterprise: false,
      echo_duration_ms: 0,
      clock_skew_ms: 0,
      replication_primary_canary_age_ms: 0,
    };
    if (state === 'unsealed') Object.assign(body, { cluster_name: 'arca-cluster', cluster_id: d.clusterId || core.seal.record?.initId });
    reply.code(status);
    return req.method === 'HEAD' ? reply.send() : reply.send(body);
  };
  app.get('/v1/sys/health', health);

  app.get('/v1/sys/leader', async () => {
    if (core.state !== 'unsealed') throw new ArcaError('ERR_SEALED', 'Vault is sealed');
    const ha = d.ha();
    const leader = d.leaderAddress ? await d.leaderAddress() : ha.leaderAddress;
    return {
      ha_enabled: ha.enabled,
      is_self: ha.active,
      active_time: (ha.activeSince ?? new Date(0)).toISOString(),
      leader_address: leader,
      leader_cluster_address: leader,
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
      raft_committed_index: 0,
      raft_applied_index: 0,
    };
  });
}
