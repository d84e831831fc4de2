import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { clientAllowed, MAX_DURATION_SECONDS, parseRole } from './role.ts';

const BASE = { bound_service_account_names: 'api', bound_service_account_namespaces: 'payments', audience: 'arca' };

/** Both codes answer 400: out-of-range numbers and durations carry the shared range code. */
const isCoded400 = (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') || isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE');

function rejects(data: Record<string, unknown>, field: string): void {
  assert.throws(() => parseRole({ ...BASE, ...data }, undefined), (e: unknown) => isCoded400(e) && String((e as { details?: Record<string, unknown> }).details?.['field'] ?? '').startsWith(field));
}

describe('kubernetes auth role', () => {
  it('parses Vault comma strings, durations and legacy aliases', () => {
    const { role, warnings } = parseRole({ ...BASE, bound_service_account_names: 'api, web-*', policies: 'a,b', ttl: '1h', max_ttl: '2h', num_uses: '3' }, undefined);
    assert.deepEqual(role.bound_service_account_names, ['api', 'web-*']);
    assert.deepEqual(role.token_policies, ['a', 'b']);
    assert.equal(role.token_ttl, 3600);
    assert.equal(role.token_max_ttl, 7200);
    assert.equal(role.token_num_uses, 3);
    assert.deepEqual(warnings, []);
  });

  it('range-checks every number and duration field', () => {
    rejects({ token_ttl: MAX_DURATION_SECONDS + 1 }, 'token_ttl');
    rejects({ token_max_ttl: '87600h1s' }, 'token_max_ttl');
    rejects({ token_ttl: -1 }, 'token_ttl');
    rejects({ token_ttl: 'an hour' }, 'token_ttl');
    rejects({ token_num_uses: -1 }, 'token_num_uses');
    rejects({ token_num_uses: 2 ** 31 }, 'token_num_uses');
    rejects({ token_num_uses: 1.5 }, 'token_num_uses');
    rejects({ token_ttl: '2h', token_max_ttl: '1h' }, 'token_ttl');
    rejects({ token_bound_cidrs: '10.0.0.0/33' }, 'token_bound_cidrs');
    rejects({ token_bound_cidrs: ['fe80::/129'] }, 'token_bound_cidrs');
    rejects({ bound_service_account_names: '' }, 'bound_service_account_names');
    rejects({ bound_service_account_namespaces: '*,payments' }, 'bound_service_account_namespaces');
    rejects({ token_policies: 'app,root' }, 'token_policies');
  });

  it('keeps unspecified fields on update and warns when the role has no audience', () => {
    const first = parseRole({ ...BASE, token_ttl: '10m' }, undefined).role;
    const { role, warnings } = parseRole({ audience: '' }, first);
    assert.equal(role.token_ttl, 600);
    assert.match(warnings[0]!, /audience/);
  });


  it('never throws anything but a coded 400 on arbitrary input', () => {
    const keys = ['bound_service_account_names', 'bound_service_account_namespaces', 'audience', 'alias_name_source', 'token_policies', 'token_ttl', 'token_max_ttl', 'token_num_uses', 'token_bound_cidrs', 'ttl', 'policies'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue()), (data) => {
        try {
          parseRole(data as Record<string, unknown>, undefined);
        } catch (e) {
          assert.ok(isCoded400(e), String(e));
        }
      }),
    );
  });

  it('checks the client address against token_bound_cidrs (IPv4, IPv6, v4-mapped)', () => {
    const { role } = parseRole({ ...BASE, token_bound_cidrs: '10.0.0.0/8,fd00::/8,192.168.1.7' }, undefined);
    assert.ok(clientAllowed(role, '10.1.2.3'));
    assert.ok(clientAllowed(role, '::ffff:10.1.2.3'));
    assert.ok(clientAllowed(role, 'fd12::1'));
    assert.ok(clientAllowed(role, '192.168.1.7'));
    assert.ok(!clientAllowed(role, '192.168.1.8'));
    assert.ok(!clientAllowed(role, ''));
    assert.ok(clientAllowed(parseRole(BASE, undefined).role, '8.8.8.8'));
  });
});
