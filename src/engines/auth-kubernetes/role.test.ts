import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { checkLoginFrom } from '../token-fields.ts';
import { issuesBatch, MAX_DURATION_SECONDS, parseRole, roleData, storedRole } from './role.ts';

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
    rejects({ token_period: MAX_DURATION_SECONDS + 1 }, 'token_period');
    rejects({ period: 'daily' }, 'period');
    rejects({ token_explicit_max_ttl: -5 }, 'token_explicit_max_ttl');
    rejects({ token_type: 'service-ish' }, 'token_type');
  });

  it('takes token_period (and the legacy period), token_explicit_max_ttl and the service token_type spellings', () => {
    const { role } = parseRole({ ...BASE, token_period: '24h', token_explicit_max_ttl: '72h', token_type: 'service' }, undefined);
    assert.equal(role.token_period, 86400);
    assert.equal(role.token_explicit_max_ttl, 259200);
    assert.equal(role.token_type, 'service');
    assert.equal(parseRole({ ...BASE, period: '1h' }, undefined).role.token_period, 3600);
    for (const t of ['default', 'default-service'] as const) assert.equal(parseRole({ ...BASE, token_type: t }, undefined).role.token_type, t);
    const data = roleData(role);
    assert.equal(data['token_period'], 86400);
    assert.equal(data['period'], 86400, 'the legacy key is echoed when set, as Vault does');
    assert.equal(data['token_explicit_max_ttl'], 259200);
    assert.equal(data['token_type'], 'service');
    assert.equal(roleData(parseRole(BASE, undefined).role)['token_type'], 'default');
  });

  it("takes batch token types, refusing them with a period or limited uses in Vault's words, and refuses namespace selectors", () => {
    for (const token_type of ['batch', 'default-batch']) {
      const { role } = parseRole({ ...BASE, token_type }, undefined);
      assert.equal(role.token_type, token_type);
      assert.equal(issuesBatch(role), true);
      assert.throws(() => parseRole({ ...BASE, token_type, token_period: '1h' }, undefined), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /cannot be 'batch' or 'default_batch' when set to generate periodic tokens/.test((e as Error).message));
      assert.throws(() => parseRole({ num_uses: 2 }, role), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /limited use count/.test((e as Error).message), 'also when the batch type was stored before');
    }
    for (const token_type of ['default', 'service', 'default-service']) assert.equal(issuesBatch(parseRole({ ...BASE, token_type }, undefined).role), false);
    assert.throws(
      () => parseRole({ ...BASE, bound_service_account_namespace_selector: '{"matchLabels":{"team":"payments"}}' }, undefined),
      (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /bound_service_account_namespaces/.test((e as Error).message),
    );
    assert.equal(parseRole({ ...BASE, bound_service_account_namespace_selector: '' }, undefined).role.bound_service_account_namespaces[0], 'payments');
  });

  it("names the fields it ignored, as Vault's warning does, without their values", () => {
    const { warnings } = parseRole({ ...BASE, token_typo: 's3cr3t-value', bound_service_acount_names: 'api' }, undefined);
    assert.deepEqual(warnings, ['Endpoint ignored these unrecognized parameters: [bound_service_acount_names token_typo]']);
    assert.equal(warnings.join(' ').includes('s3cr3t-value'), false);
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${String(i).padStart(2, '0')}${'y'.repeat(80)}`, 1]));
    const w = parseRole({ ...BASE, ...many }, undefined).warnings[0]!;
    assert.match(w, /\(4 more\)\]$/);
    assert.equal(w.includes('y'.repeat(65)), false, 'long names are cut');
    assert.deepEqual(parseRole(BASE, undefined).warnings, []);
  });

  it('loads a role stored before the newer fields with their defaults', () => {
    const old = JSON.stringify({ ...parseRole(BASE, undefined).role, token_period: undefined, token_explicit_max_ttl: undefined, token_type: undefined });
    const r = storedRole(old);
    assert.equal(r.token_period, 0);
    assert.equal(r.token_explicit_max_ttl, 0);
    assert.equal(r.token_type, 'default');
    assert.deepEqual(r.bound_service_account_names, ['api']);
  });

  it('keeps unspecified fields on update and warns when the role has no audience', () => {
    const first = parseRole({ ...BASE, token_ttl: '10m' }, undefined).role;
    const { role, warnings } = parseRole({ audience: '' }, first);
    assert.equal(role.token_ttl, 600);
    assert.match(warnings[0]!, /audience/);
  });


  it('never throws anything but a coded 400 on arbitrary input', () => {
    const keys = ['bound_service_account_names', 'bound_service_account_namespaces', 'audience', 'alias_name_source', 'token_policies', 'token_ttl', 'token_max_ttl', 'token_num_uses', 'token_bound_cidrs', 'ttl', 'policies', 'token_period', 'period', 'token_explicit_max_ttl', 'token_type', 'bound_service_account_namespace_selector'];
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
    const allowed = (addr: string) => {
      try {
        checkLoginFrom(role, addr);
        return true;
      } catch (e) {
        assert.ok(isArcaError(e, 'ERR_PERMISSION_DENIED'), String(e));
        return false;
      }
    };
    assert.ok(allowed('10.1.2.3'));
    assert.ok(allowed('::ffff:10.1.2.3'));
    assert.ok(allowed('fd12::1'));
    assert.ok(allowed('192.168.1.7'));
    assert.ok(!allowed('192.168.1.8'));
    assert.ok(!allowed(''));
    checkLoginFrom(parseRole(BASE, undefined).role, '8.8.8.8');
  });
});
