/**
 * What an auth mount's own settings do to the token a login asks for, as Vault's router does after
 * an auth method answers. PURE.
 * - The type: the mount's `token_type` (sys/auth tune or enable) against the one the role asked for.
 *   `service` and `batch` are forced on every login of the mount. `default-service` (the default)
 *   and `default-batch` take the role's explicit `service` or `batch`, and otherwise give their own.
 * - The TTLs (`mountTtls`, also for the token store's own mount): a role without a TTL gets the
 *   mount's `default_lease_ttl` (0 = the system's, 768h). The mount's `max_lease_ttl` caps the token
 *   from its creation. Arca keeps that cap as the token's explicit max TTL. A periodic token's period
 *   is capped instead, so it stays renewable forever.
 */
import type { AuthIssue } from '../engines/index.ts';
import { ArcaError } from '../errors/index.ts';
import type { MountConfig, MountEntry, MountTokenType } from './mounts.ts';

/** Vault's rule (vault/router.go): what the mount's token_type makes of the type the role asked for. */
export function loginTokenIsBatch(mount: MountTokenType | undefined, asked: AuthIssue['tokenType']): boolean {
  switch (mount ?? 'default-service') {
    case 'service':
      return false;
    case 'batch':
      return true;
    case 'default-batch':
      return !(asked === 'service' || asked === 'default-service');
    default:
      return asked === 'batch' || asked === 'default-batch';
  }
}

export interface LoginTokenShape {
  batch: boolean;
  renewable: boolean;
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  numUses: number;
}

/** The type, TTLs and uses of the login's token, or a 400 that says which setting to change. */
export function loginTokenShape(i: AuthIssue, m: Pick<MountEntry, 'path' | 'tokenType' | 'config'>): LoginTokenShape {
  const batch = loginTokenIsBatch(m.tokenType, i.tokenType);
  const period = i.periodSeconds ?? 0;
  const numUses = i.numUses ?? 0;
  if (batch && (period > 0 || numUses > 0)) {
    const field = period > 0 ? 'token_period' : 'token_num_uses';
    throw new ArcaError(
      'ERR_INVALID_REQUEST',
      `this login gets a batch token (the auth mount's token_type is ${m.tokenType ?? 'default-service'}), and a batch token cannot have ${field} set: remove it from the role, or tune sys/auth/${m.path.replace(/^auth\//, '')} to another token_type`,
    );
  }
  const ttls = mountTtls({ ttl: i.ttlSeconds, explicitMaxTtl: i.explicitMaxTtlSeconds ?? 0, period }, m.config);
  // A login's service token is renewable (as every Vault auth method's is); a batch token never.
  return { batch, renewable: !batch, ...ttls, numUses };
}

/**
 * A mount's lease TTLs over a token's own (logins, and `auth/token/create` under the token store's
 * mount): no TTL takes the mount's default, and the mount's max caps the token from its creation,
 * as its explicit max TTL, or as its period when it is periodic. A root token asked without a TTL
 * stays without one, as in Vault.
 */
export function mountTtls(
  t: { ttl: number; explicitMaxTtl: number; period: number; root?: boolean },
  config: MountConfig | undefined,
): { ttl: number; explicitMaxTtl: number; period: number } {
  const max = config?.maxLeaseTtl ?? 0;
  const forever = t.root === true && t.ttl === 0 && t.period === 0;
  const ttl = t.ttl || (forever ? 0 : (config?.defaultLeaseTtl ?? 0));
  if (max === 0 || forever) return { ttl, explicitMaxTtl: t.explicitMaxTtl, period: t.period };
  if (t.period > 0) return { ttl, explicitMaxTtl: t.explicitMaxTtl, period: Math.min(t.period, max) };
  return { ttl, explicitMaxTtl: t.explicitMaxTtl > 0 ? Math.min(t.explicitMaxTtl, max) : max, period: 0 };
}
