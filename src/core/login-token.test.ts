import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthIssue } from '../engines/index.ts';
import { isArcaError } from '../errors/index.ts';
import { loginTokenIsBatch, loginTokenShape, mountTtls } from './login-token.ts';
import { MOUNT_TOKEN_TYPES, type MountTokenType } from './mounts.ts';

const ASKED = ['default', 'service', 'default-service', 'batch', 'default-batch'] as const;
const issue = (o: Partial<AuthIssue> = {}): AuthIssue => ({ policies: ['default'], displayName: 'x', ttlSeconds: 0, metadata: {}, orphan: true, ...o });
const mount = (tokenType?: MountTokenType, config?: { defaultLeaseTtl: number; maxLeaseTtl: number }) => ({ path: 'auth/userpass/', ...(tokenType ? { tokenType } : {}), ...(config ? { config } : {}) });

describe('login token: the auth mount over the role', () => {
  it("resolves the type as Vault's router does, for every mount type and every type a role asks for", () => {
    // Rows: the mount's token_type; columns: the role's, in ASKED order (true = batch).
    const table: Record<MountTokenType, boolean[]> = {
      'default-service': [false, false, false, true, true],
      'default-batch': [true, false, false, true, true],
      service: [false, false, false, false, false],
      batch: [true, true, true, true, true],
    };
    for (const m of MOUNT_TOKEN_TYPES) {
      assert.deepEqual(ASKED.map((a) => loginTokenIsBatch(m, a)), table[m], m);
    }
    assert.deepEqual(ASKED.map((a) => loginTokenIsBatch(undefined, a)), table['default-service'], 'an untuned mount is default-service');
    assert.equal(loginTokenIsBatch('default-batch', undefined), true, 'a method that names no type gets the mount default');
  });

  it('makes a batch token unrenewable and a forced service token renewable', () => {
    assert.deepEqual([loginTokenShape(issue({ tokenType: 'service' }), mount('batch')).batch, loginTokenShape(issue({ tokenType: 'service' }), mount('batch')).renewable], [true, false]);
    assert.deepEqual([loginTokenShape(issue({ tokenType: 'batch' }), mount('service')).batch, loginTokenShape(issue({ tokenType: 'batch' }), mount('service')).renewable], [false, true]);
  });

  it('refuses a period or a use count on a login the mount turns into a batch token, naming what to change', () => {
    for (const [o, field] of [[{ periodSeconds: 3600 }, 'token_period'], [{ numUses: 2 }, 'token_num_uses']] as const) {
      assert.throws(
        () => loginTokenShape(issue({ tokenType: 'default', ...o }), mount('batch')),
        (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && (e as Error).message.includes(field) && (e as Error).message.includes('sys/auth/userpass/'),
      );
      assert.equal(loginTokenShape(issue({ tokenType: 'default', ...o }), mount('default-service')).batch, false);
    }
  });

  it("takes the mount's default TTL when the role has none, and caps the token at the mount's max TTL", () => {
    const tuned = mount(undefined, { defaultLeaseTtl: 1800, maxLeaseTtl: 7200 });
    assert.deepEqual(loginTokenShape(issue(), tuned), { batch: false, renewable: true, ttl: 1800, explicitMaxTtl: 7200, period: 0, numUses: 0 });
    assert.equal(loginTokenShape(issue({ ttlSeconds: 600 }), tuned).ttl, 600, "the role's TTL wins over the mount's default");
    assert.equal(loginTokenShape(issue({ explicitMaxTtlSeconds: 3600 }), tuned).explicitMaxTtl, 3600, 'the smaller cap');
    assert.equal(loginTokenShape(issue({ explicitMaxTtlSeconds: 86400 }), tuned).explicitMaxTtl, 7200, 'the smaller cap');
    const periodic = loginTokenShape(issue({ periodSeconds: 86400 }), tuned);
    assert.deepEqual([periodic.period, periodic.explicitMaxTtl], [7200, 0], 'a periodic token keeps renewing, its period capped');
    assert.deepEqual(loginTokenShape(issue({ ttlSeconds: 60 }), mount()), { batch: false, renewable: true, ttl: 60, explicitMaxTtl: 0, period: 0, numUses: 0 }, 'an untuned mount changes nothing');
  });

  it('applies the same TTL rules to the token store, where a root token asked without a TTL keeps none', () => {
    const config = { defaultLeaseTtl: 600, maxLeaseTtl: 3600 };
    assert.deepEqual(mountTtls({ ttl: 0, explicitMaxTtl: 0, period: 0 }, config), { ttl: 600, explicitMaxTtl: 3600, period: 0 });
    assert.deepEqual(mountTtls({ ttl: 0, explicitMaxTtl: 0, period: 0, root: true }, config), { ttl: 0, explicitMaxTtl: 0, period: 0 }, 'a root token that never expires');
    assert.deepEqual(mountTtls({ ttl: 7200, explicitMaxTtl: 0, period: 0, root: true }, config), { ttl: 7200, explicitMaxTtl: 3600, period: 0 }, 'a root token with a TTL is capped');
    assert.deepEqual(mountTtls({ ttl: 0, explicitMaxTtl: 0, period: 0 }, undefined), { ttl: 0, explicitMaxTtl: 0, period: 0 });
  });
});
