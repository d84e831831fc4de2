/**
 * The transit engine: encryption as a service with keys that never leave Arca (Vault's `transit`,
 * plus HSM-backed key versions). Mounted by the core, usually at `transit/`.
 */
import { isArcaError } from '../../errors/index.ts';
import type { Engine, EngineContext, EngineRequest } from '../types.ts';
import { EngineRouter } from '../router.ts';
import { decrypt, encrypt, rewrap } from './crypt-paths.ts';
import { datakey, random } from './datakey-random.ts';
import { hash } from './hash.ts';
import { hmac, verify } from './hmac.ts';
import { rotateKey, rotationDue, versionsLost } from './key-lifecycle.ts';
import { type Backends, KeyOps } from './key-ops.ts';
import { KeyStore } from './key-store.ts';
import { configureKey, listKeys, readKey, removeKey, rotate, writeKey } from './keys-paths.ts';
import type { TransitState } from './state.ts';

export interface TransitOptions {
  /** How long a key read from storage is trusted before re-reading (other replicas may change it). */
  cacheTtlMs?: number;
}

/**
 * `backends.software` serves `aes256-gcm96`, `backends.hsm` (optional) `hsm-aes256-gcm96`. The engine
 * does not own the backends: the caller closes them.
 */
export function createTransitEngine(ctx: EngineContext, backends: Backends, options: TransitOptions = {}): Engine {
  const s: TransitState = {
    store: new KeyStore(ctx.storage, ctx.now, options.cacheTtlMs),
    ops: new KeyOps(backends),
    now: ctx.now,
    log: ctx.log.child({ component: 'transit' }),
  };
  const router = new EngineRouter()
    .add('keys', { list: () => listKeys(s) })
    .add('keys/', { list: () => listKeys(s) })
    .add('keys/:name', {
      read: (_r, p) => readKey(s, p.name!),
      update: (r, p) => writeKey(s, r, p.name!),
      delete: (_r, p) => removeKey(s, p.name!),
    })
    .add('keys/:name/rotate', { update: (_r, p) => rotate(s, p.name!) })
    .add('keys/:name/config', { update: (r, p) => configureKey(s, r, p.name!) })
    .add('encrypt/:name', { update: (r, p) => encrypt(s, r, p.name!), create: (r, p) => encrypt(s, r, p.name!) })
    .add('decrypt/:name', { update: (r, p) => decrypt(s, r, p.name!) })
    .add('rewrap/:name', { update: (r, p) => rewrap(s, r, p.name!) })
    .add('datakey/:kind/:name', { update: (r, p) => datakey(s, r, p.kind!, p.name!) })
    .add('random', { update: (r) => random(r, []) })
    .add('random/:a', { update: (r, p) => random(r, [p.a!]) })
    .add('random/:a/:b', { update: (r, p) => random(r, [p.a!, p.b!]) })
    .add('hash', { update: (r) => hash(r, undefined) })
    .add('hash/:algorithm', { update: (r, p) => hash(r, p.algorithm) })
    .add('hmac/:name', { update: (r, p) => hmac(s, r, p.name!, undefined) })
    .add('hmac/:name/:algorithm', { update: (r, p) => hmac(s, r, p.name!, p.algorithm) })
    .add('verify/:name', { update: (r, p) => verify(s, r, p.name!, undefined) })
    .add('verify/:name/:algorithm', { update: (r, p) => verify(s, r, p.name!, p.algorithm) });

  return {
    type: 'transit',
    // The audit log HMACs these wherever they appear (batch items too): plaintexts in requests and
    // decrypt/datakey results, random bytes (often used as keys), hash and HMAC input (often a
    // secret), and HMACs (a keyed pseudonym of their input: linkable, so not for the audit log).
    sensitiveFields: ['plaintext', 'random_bytes', 'input', 'hmac'],
    handle: (req) => router.dispatch(req),
    routes: () => router.routes(),
    /** Only `encrypt/:name` distinguishes create from update (Vault's upsert); every other write is an update. */
    async exists(req: EngineRequest): Promise<boolean> {
      const m = /^encrypt\/([^/]+)$/.exec(req.path);
      if (!m) return true;
      try {
        return (await s.store.get(m[1]!)) !== undefined;
      } catch {
        // An invalid name or a storage error: let the handler report it under `update`.
        return true;
      }
    },
    /** Key versions a snapshot restore would drop: ciphertexts made with them would never decrypt again. */
    restoreLosses: (incoming) => versionsLost(s.store, new KeyStore(incoming, ctx.now, 0)),
    /** Scheduled rotation (auto_rotate_period). The core calls this on the active replica only. */
    async tick(): Promise<void> {
      const now = s.now();
      for (const name of await s.store.list()) {
        try {
          const p = await s.store.get(name, true);
          if (!p || !rotationDue(p, now)) continue;
          await rotateKey(s, name, (cur) => rotationDue(cur, s.now()));
        } catch (err) {
          // Another engine instance rotated it first (engines overlap while a reload swaps them): done.
          if (isArcaError(err, 'ERR_STORAGE_CONFLICT')) s.log.info({ key: name }, 'scheduled rotation done by another engine instance');
          else s.log.error({ err, key: name }, 'scheduled rotation failed');
        }
      }
    },
  };
}
