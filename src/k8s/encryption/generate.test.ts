import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEncryptionConfig } from './config.ts';
import { generateConfig, rotationStages } from './generate.ts';
import { lintEncryptionConfig } from './lint.ts';
import { checkBuildable, validateEncryptionConfig } from './validate.ts';

const valid = (text: string) => {
  const c = parseEncryptionConfig(text);
  return [...validateEncryptionConfig(c), ...checkBuildable(c)];
};

describe('generate', () => {
  for (const provider of ['aesgcm', 'aescbc', 'secretbox'] as const) {
    it(`writes a config kube-apiserver accepts with a fresh ${provider} key and identity last`, () => {
      const a = generateConfig({ provider, keyName: 'k' });
      const b = generateConfig({ provider, keyName: 'k' });
      assert.deepEqual(valid(a), []);
      assert.notEqual(a, b);
      const p = parseEncryptionConfig(a).resources[0]!.providers;
      assert.ok(p[0]![provider]);
      assert.deepEqual(p[1], { identity: {} });
    });
  }
  it('writes a kms v2 provider', () => {
    const t = generateConfig({ provider: 'kms', kmsName: 'arca', kmsEndpoint: 'unix:///run/arca/kms.sock' });
    assert.deepEqual(valid(t), []);
    assert.equal(parseEncryptionConfig(t).resources[0]!.providers[0]!.kms!.apiVersion, 'v2');
  });
  it('rejects kms without name and endpoint', () => {
    assert.throws(() => generateConfig({ provider: 'kms' }), (e: { code?: string }) => e.code === 'ERR_INVALID_REQUEST');
  });
});

describe('rotate', () => {
  const base = generateConfig({ provider: 'aescbc', keyName: 'old', keySize: 16 });
  const stages = rotationStages(base, { newKeyName: 'new' });
  const names = (i: number) => parseEncryptionConfig(stages[i]!.yaml!).resources[0]!.providers[0]!.aescbc!.keys.map((k) => k.name);
  it('stages add-second, make-first, rewrite, drop-old', () => {
    assert.equal(stages.length, 4);
    assert.deepEqual(names(0), ['old', 'new']);
    assert.deepEqual(names(1), ['new', 'old']);
    assert.equal(stages[2]!.yaml, undefined);
    assert.deepEqual(names(3), ['new']);
    for (const s of stages) if (s.yaml) assert.deepEqual(valid(s.yaml), []);
  });
  it('uses one new key across all stages, of the old key size', () => {
    const secrets = [0, 1, 3].map((i) => parseEncryptionConfig(stages[i]!.yaml!).resources[0]!.providers[0]!.aescbc!.keys.find((k) => k.name === 'new')!.secret);
    assert.equal(new Set(secrets).size, 1);
    assert.equal(Buffer.from(secrets[0]!, 'base64').length, 16);
  });
  it('refuses kms-first configs (rotation happens in the KMS)', () => {
    assert.throws(() => rotationStages(generateConfig({ provider: 'kms', kmsName: 'a', kmsEndpoint: 'unix:///s' })), (e: { code?: string }) => e.code === 'ERR_ENCCONFIG_INVALID');
  });
});

describe('lint', () => {
  const codes = (text: string, mode?: number) => lintEncryptionConfig(parseEncryptionConfig(text), mode).map((w) => w.code).sort();
  const cfg = (providers: unknown[], resources = ['secrets']) =>
    JSON.stringify({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: [{ resources, providers }] });
  const key = Buffer.alloc(32).toString('base64');
  it('warns on identity first', () => assert.ok(codes(cfg([{ identity: {} }])).includes('IDENTITY_FIRST')));
  it('warns when identity is missing', () => assert.ok(codes(cfg([{ secretbox: { keys: [{ name: 'a', secret: key }] } }])).includes('NO_IDENTITY_FALLBACK')));
  it('warns on aescbc', () => assert.ok(codes(cfg([{ aescbc: { keys: [{ name: 'a', secret: key }] } }, { identity: {} }])).includes('AESCBC_PADDING_ORACLE')));
  it('warns on aesgcm without rotation and keys on disk', () => {
    const c = codes(cfg([{ aesgcm: { keys: [{ name: 'a', secret: key }] } }, { identity: {} }]));
    assert.ok(c.includes('AESGCM_ROTATION') && c.includes('KEYS_ON_DISK'));
  });
  it('warns on kms v1', () => assert.ok(codes(cfg([{ kms: { name: 'a', endpoint: 'unix:///s' } }, { identity: {} }])).includes('KMS_V1_DEPRECATED')));
  it('warns when secrets are not covered', () => assert.ok(codes(cfg([{ kms: { apiVersion: 'v2', name: 'a', endpoint: 'unix:///s' } }, { identity: {} }], ['configmaps'])).includes('SECRETS_NOT_COVERED')));
  it('warns when the file is readable by others', () => {
    const text = cfg([{ kms: { apiVersion: 'v2', name: 'a', endpoint: 'unix:///s' } }, { identity: {} }]);
    assert.deepEqual(codes(text, 0o100600), []);
    assert.deepEqual(codes(text, 0o100644), ['FILE_READABLE_BY_OTHERS']);
  });
});
