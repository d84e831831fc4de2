import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { configData, effectiveVerification, parseConfig } from './config.ts';

const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const bad = (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST');
/** Both codes answer 400: a duration beyond Go's limit carries the shared range code. */
const coded400 = (e: unknown) => bad(e) || isArcaError(e, 'ERR_FIELD_OUT_OF_RANGE');

describe('kubernetes auth config', () => {
  it('defaults verification to both with keys and a host, else the one configured (as Vault with pem_keys)', () => {
    assert.equal(effectiveVerification(parseConfig({ kubernetes_host: 'https://k8s:6443', pem_keys: PEM }, undefined)), 'both');
    assert.equal(effectiveVerification(parseConfig({ kubernetes_host: 'https://k8s:6443' }, undefined)), 'tokenreview');
    assert.equal(effectiveVerification(parseConfig({ oidc_discovery_url: 'https://oidc.example' }, undefined)), 'jwks');
    assert.equal(effectiveVerification(parseConfig({ kubernetes_host: 'https://k8s:6443', jwks_url: 'https://k8s:6443/openid/v1/jwks', verification: 'jwks' }, undefined)), 'jwks');
  });

  it('refuses a config that cannot verify anything, or a mode without what it needs', () => {
    assert.throws(() => parseConfig({}, undefined), bad);
    assert.throws(() => parseConfig({ verification: 'both', kubernetes_host: 'https://k8s' }, undefined), bad);
    assert.throws(() => parseConfig({ verification: 'tokenreview', pem_keys: PEM }, undefined), bad);
    assert.throws(() => parseConfig({ kubernetes_host: 'k8s:6443' }, undefined), bad);
    assert.throws(() => parseConfig({ kubernetes_host: 'https://k8s', kubernetes_ca_cert: 'not a cert' }, undefined), bad);
    assert.throws(() => parseConfig({ kubernetes_host: 'https://k8s', token_reviewer_jwt_file: 'relative/path' }, undefined), bad);
    assert.throws(() => parseConfig({ kubernetes_host: 'https://k8s', token_reviewer_jwt: 'a', token_reviewer_jwt_file: '/f' }, undefined), bad);
    assert.throws(() => parseConfig({ jwks_url: 'https://a/jwks', jwks_min_refresh_seconds: '2h' }, undefined), bad);
  });

  it('splits pem_keys given as concatenated PEM blocks or comma-separated', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(parseConfig({ pem_keys: `${PEM}${other}` }, undefined).pem_keys.length, 2);
    assert.equal(parseConfig({ pem_keys: `${PEM},${other}` }, undefined).pem_keys.length, 2);
    assert.equal(parseConfig({ pem_keys: [PEM, other] }, undefined).pem_keys.length, 2);
  });

  it('never throws anything but a coded 400 on arbitrary input', () => {
    const keys = ['kubernetes_host', 'kubernetes_ca_cert', 'token_reviewer_jwt', 'token_reviewer_jwt_file', 'pem_keys', 'issuer', 'verification', 'jwks_url', 'oidc_discovery_url', 'jwks_min_refresh_seconds', 'disable_local_ca_jwt'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue()), (data) => {
        try {
          parseConfig(data as Record<string, unknown>, undefined);
        } catch (e) {
          assert.ok(coded400(e), String(e));
        }
      }),
    );
  });

  it('never returns the reviewer JWT on read', () => {
    const d = configData(parseConfig({ kubernetes_host: 'https://k8s', token_reviewer_jwt: 'eyJ.secret.jwt' }, undefined));
    assert.equal(d['token_reviewer_jwt_set'], true);
    assert.equal(JSON.stringify(d).includes('eyJ.secret.jwt'), false);
  });
});
