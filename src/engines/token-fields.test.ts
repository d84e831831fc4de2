import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { isArcaError } from '../errors/index.ts';
import { parseFields } from './fields.ts';
import {
  checkLoginFrom,
  loginDisplayName,
  MAX_DURATION_SECONDS,
  MAX_TOKEN_LIST,
  mergeTokenFields,
  storedTokenFields,
  TOKEN_FIELDS_DEFAULTS,
  tokenFieldsData,
  tokenFieldsShape,
  tokenIssue,
} from './token-fields.ts';

const Schema = z.object(tokenFieldsShape);
const parse = (data: Record<string, unknown>, current = TOKEN_FIELDS_DEFAULTS) => mergeTokenFields(current, parseFields(Schema, data));
const field = (e: unknown) => String((e as { details?: Record<string, unknown> }).details?.['field'] ?? '');
const coded400 = (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') || isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE');

function refused(data: Record<string, unknown>, name: string, message?: RegExp): void {
  assert.throws(() => parse(data), (e: unknown) => coded400(e) && field(e).startsWith(name) && (!message || message.test((e as Error).message)), `${JSON.stringify(data)} → ${name}`);
}

describe('token fields (Vault tokenutil)', () => {
  it('takes every field, the deprecated aliases, and the new name over its alias', () => {
    const r = parse({ policies: 'a, b', ttl: '1h', max_ttl: '2h', period: '30m', num_uses: '3', bound_cidrs: '10.0.0.0/8', token_no_default_policy: 'true', token_explicit_max_ttl: 90 });
    assert.deepEqual(r, {
      token_policies: ['a', 'b'], token_ttl: 3600, token_max_ttl: 7200, token_period: 1800, token_num_uses: 3,
      token_bound_cidrs: ['10.0.0.0/8'], token_no_default_policy: true, token_explicit_max_ttl: 90, token_type: 'default',
    });
    assert.deepEqual(parse({ token_policies: ['new'], policies: ['old'] }).token_policies, ['new']);
    assert.equal(parse({ token_ttl: 60, ttl: 120 }).token_ttl, 60);
  });

  it('is an upsert over the current fields, which it never changes', () => {
    const cur = parse({ token_policies: 'a', token_ttl: '10m' });
    const next = parse({ token_type: 'batch' }, cur);
    assert.deepEqual(next.token_policies, ['a']);
    assert.equal(next.token_ttl, 600);
    assert.equal(next.token_type, 'batch');
    assert.equal(cur.token_type, 'default');
    assert.equal(TOKEN_FIELDS_DEFAULTS.token_policies.length, 0);
  });

  it("refuses what Vault's tokenutil refuses, naming the field", () => {
    refused({ token_policies: 'app,root' }, 'token_policies', /root/);
    refused({ token_type: 'batch', token_period: '1h' }, 'token_type', /cannot be 'batch' or 'default_batch' when set to generate periodic tokens/);
    refused({ token_type: 'default-batch', num_uses: 2 }, 'token_type', /limited use count/);
    refused({ token_ttl: '2h', token_max_ttl: '1h' }, 'token_ttl', /'token_ttl' cannot be greater than 'token_max_ttl'/);
    assert.throws(() => parse({ num_uses: 1 }, parse({ token_type: 'batch' })), /limited use count/, 'also against a type stored before');
  });

  it('range-checks every number, duration and list', () => {
    refused({ token_ttl: MAX_DURATION_SECONDS + 1 }, 'token_ttl');
    refused({ ttl: -1 }, 'ttl');
    refused({ token_max_ttl: 'an hour' }, 'token_max_ttl');
    refused({ token_explicit_max_ttl: '87600h1s' }, 'token_explicit_max_ttl');
    refused({ token_period: MAX_DURATION_SECONDS + 1 }, 'token_period');
    refused({ token_num_uses: 2 ** 31 }, 'token_num_uses');
    refused({ num_uses: 1.5 }, 'num_uses');
    refused({ token_bound_cidrs: '10.0.0.0/33' }, 'token_bound_cidrs');
    refused({ bound_cidrs: ['fe80::/129'] }, 'bound_cidrs');
    refused({ token_type: 'service-ish' }, 'token_type');
    refused({ token_policies: Array.from({ length: MAX_TOKEN_LIST + 1 }, (_, i) => `p${i}`) }, 'token_policies');
    refused({ token_bound_cidrs: Array.from({ length: MAX_TOKEN_LIST + 1 }, () => '10.0.0.1') }, 'token_bound_cidrs');
  });

  it('never throws anything but a coded 400 on arbitrary input', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(tokenFieldsShape)), fc.jsonValue()), (data) => {
        try {
          parse(data);
        } catch (e) {
          assert.ok(coded400(e), String(e));
        }
      }),
    );
  });

  it("reads back as Vault's shape: every token_* key, the legacy keys only when set", () => {
    const d = tokenFieldsData(parse({ token_policies: 'a', token_ttl: '1h', token_bound_cidrs: '10.0.0.0/8' }));
    assert.deepEqual(Object.keys(d).filter((k) => k.startsWith('token_')).sort(), Object.keys(TOKEN_FIELDS_DEFAULTS).sort());
    assert.deepEqual(d['policies'], ['a']);
    assert.equal(d['ttl'], 3600);
    assert.deepEqual(d['bound_cidrs'], ['10.0.0.0/8']);
    assert.equal('max_ttl' in d || 'period' in d || 'num_uses' in d, false);
  });

  it('fills fields a stored record predates with their defaults', () => {
    const r = storedTokenFields({ token_policies: ['a'], token_ttl: 60, password: 'x' });
    assert.equal(r.password, 'x');
    assert.equal(r.token_type, 'default');
    assert.deepEqual(r.token_bound_cidrs, []);
    assert.deepEqual(r.token_policies, ['a']);
  });

  it('checks the login address against token_bound_cidrs', () => {
    const r = parse({ token_bound_cidrs: '10.0.0.0/8,fd00::/8' });
    checkLoginFrom(r, '10.9.8.7');
    checkLoginFrom(r, '::ffff:10.9.8.7');
    checkLoginFrom(r, 'fd00::1');
    assert.throws(() => checkLoginFrom(r, '192.168.0.1'), (e: unknown) => isArcaError(e, 'ERR_PERMISSION_DENIED') && /token_bound_cidrs/.test((e as Error).message));
    checkLoginFrom(TOKEN_FIELDS_DEFAULTS, '192.168.0.1');
  });

  it('turns the fields into the login token the core issues', () => {
    const login = { mountPoint: 'auth/team/userpass/', name: 'ivy', metadata: { username: 'ivy' }, alias: { name: 'ivy' } };
    const service = tokenIssue(parse({ token_policies: 'app', token_max_ttl: '2h', token_explicit_max_ttl: '1h', token_num_uses: 5, token_bound_cidrs: '10.0.0.0/8' }), login);
    assert.deepEqual(service, {
      policies: ['app', 'default'], displayName: 'team-userpass-ivy', ttlSeconds: 7200, explicitMaxTtlSeconds: 3600, numUses: 5,
      tokenType: 'default', metadata: { username: 'ivy' }, orphan: true, boundCidrs: ['10.0.0.0/8'], alias: { name: 'ivy' },
    });
    const batch = tokenIssue(parse({ token_policies: 'default,app', token_type: 'batch', token_ttl: '10m' }), login);
    assert.equal(batch.tokenType, 'batch', "the type the role asks for; the core weighs it against the mount's token_type");
    assert.deepEqual(batch.policies, ['default', 'app'], 'default is not added twice');
    assert.equal(batch.ttlSeconds, 600);
    assert.equal(batch.explicitMaxTtlSeconds, 0);
    assert.equal('boundCidrs' in batch, false);
    const periodic = tokenIssue(parse({ token_period: '1h', token_no_default_policy: true, token_policies: 'app' }), login);
    assert.equal(periodic.periodSeconds, 3600);
    assert.deepEqual(periodic.policies, ['app']);
    assert.equal(tokenIssue(TOKEN_FIELDS_DEFAULTS, login).ttlSeconds, 0, "no TTL set: the mount's default, else the system's (768h)");
  });

  it("names the token after the auth mount's path, as Vault's core does", () => {
    assert.equal(loginDisplayName('auth/kubernetes/', 'payments-api'), 'kubernetes-payments-api');
    assert.equal(loginDisplayName('auth/eu/k8s/', 'x'), 'eu-k8s-x');
    assert.equal(loginDisplayName('auth/oidc/', 'a'.repeat(400)).length, 256);
  });
});
