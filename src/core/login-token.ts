/**
 * What an auth mount's own settings do to the token a login asks for, as Vault's router does after
 * an auth method answers. PURE.
 * - The type: the mount's `token_type` (sys/auth tune or enable) against the one the role asked for.
 *   `service` and `batch` are forced on every login of the mount. `default-service` (the default)
 *   and `default-batch` take the role's explicit `service` or `batch`, and otherwise give their own.
 * - The TTLs: a role without a TTL gets the mount's `default_lease_ttl` (0 = the system's, 768h).
 *   The mount's `max_lease_ttl` caps the token from its creation. Arca keeps that cap as the token's
 *   explicit max TTL. A periodic token's period is capped instead, so it stays renewable forever.
 */
import type { AuthIssue } from '../engines/index.ts';
import { ArcaError } from '../errors/index.ts';
import type { MountEntry, MountTokenType } from './mounts.ts';

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
  const max = m.config?.maxLeaseTtl ?? 0;
  let explicitMaxTtl = i.explicitMaxTtlSeconds ?? 0;
  let cappedPeriod = period;
  if (max > 0) {
    if (period > 0) cappedPeriod = Math.min(period, max);
    else explicitMaxTtl = explicitMaxTtl > 0 ? Math.min(explicitMaxTtl, max) : max;
  }
  return { batch, renewable: i.renewable && !batch, ttl: i.ttlSeconds || (m.config?.defaultLeaseTtl ?? 0), explicitMaxTtl, period: cappedPeriod, numUses };
}
