import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { type EncryptionConfiguration, parseEncryptionConfig } from './config.ts';
import { assertValid, checkBuildable, type Issue, validateEncryptionConfig } from './validate.ts';

const UPSTREAM = fileURLToPath(new URL('../testdata/upstream', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(ya?ml|json)$/.test(f) ? [p] : [];
  });
}

/** kube-apiserver's decision: parse + validate + build (upstream tests run with the KMSv1 gate on). */
function accepts(text: string, opts = { kmsV1: true }): boolean {
  try {
    assertValid(parseEncryptionConfig(text), opts);
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    assert.ok(code === 'ERR_ENCCONFIG_PARSE' || code === 'ERR_ENCCONFIG_INVALID', `unexpected ${String(err)}`);
    return false;
  }
}

describe('upstream kube-apiserver testdata configs', () => {
  const files = walk(UPSTREAM);
  it('has the fixtures', () => assert.ok(files.length >= 27));
  for (const f of files) {
    const valid = relative(UPSTREAM, f).startsWith('valid-configs');
    it(`${valid ? 'accepts' : 'rejects'} ${relative(UPSTREAM, f)}`, () => {
      assert.equal(accepts(readFileSync(f, 'utf8')), valid);
    });
  }
  it('rejects kms v1 configs without the KMSv1 feature gate (the 1.29+ default)', () => {
    const text = readFileSync(join(UPSTREAM, 'valid-configs/kms/default-timeout.yaml'), 'utf8');
    assert.equal(accepts(text, { kmsV1: false }), false);
  });
});

const K16 = Buffer.alloc(16, 1).toString('base64');
const K32 = Buffer.alloc(32, 2).toString('base64');

function cfg(resources: unknown[]): EncryptionConfiguration {
  return parseEncryptionConfig(JSON.stringify({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources }));
}
const one = (providers: unknown[], resources: string[] = ['secrets']) => cfg([{ resources, providers }]);
const issues = (c: EncryptionConfiguration, reload = false): Issue[] => validateEncryptionConfig(c, { reload });
const has = (list: Issue[], path: string, re: RegExp) => list.some((i) => i.path === path && re.test(i.message));
const kms = (o: Record<string, unknown>) => ({ kms: { endpoint: 'unix:///tmp/k.sock', ...o } });

describe('validation rules (reference §2)', () => {
  it('requires at least one resources entry, resource and provider', () => {
    assert.ok(has(issues(cfg([])), 'resources', /at least one/));
    assert.ok(has(issues(cfg([{ resources: [], providers: [{ identity: {} }] }])), 'resources[0].resources', /at least one/));
    assert.ok(has(issues(cfg([{ resources: ['secrets'], providers: [] }])), 'resources[0].providers', /at least one/));
  });
  it('requires exactly one provider kind per providers element', () => {
    assert.ok(has(issues(one([{ identity: {}, aesgcm: { keys: [{ name: 'k', secret: K16 }] } }])), 'resources[0].providers[0]', /more than one provider/));
    assert.ok(has(issues(one([{}])), 'resources[0].providers[0]', /does not contain any of the expected providers/));
  });
  it('requires a non-empty keys list and name and secret on each key', () => {
    assert.ok(has(issues(one([{ aescbc: { keys: [] } }])), 'resources[0].providers[0].aescbc.keys', /at least one/));
    const l = issues(one([{ aesgcm: { keys: [{ secret: K16 }, { name: 'b' }] } }]));
    assert.ok(has(l, 'resources[0].providers[0].aesgcm.keys[0].name', /name is a mandatory/));
    assert.ok(has(l, 'resources[0].providers[0].aesgcm.keys[1].secret', /secret is a mandatory/));
  });
  it('requires base64 secrets', () => {
    assert.ok(has(issues(one([{ aesgcm: { keys: [{ name: 'k', secret: 'not base64!' }] } }])), 'resources[0].providers[0].aesgcm.keys[0].secret', /base64/));
    assert.ok(has(issues(one([{ aesgcm: { keys: [{ name: 'k', secret: K16.replace(/=+$/, '') }] } }])), 'resources[0].providers[0].aesgcm.keys[0].secret', /base64/));
  });
  it('accepts 16/24/32-byte keys for aesgcm and aescbc, only 32 for secretbox', () => {
    for (const n of [16, 24, 32]) {
      const s = Buffer.alloc(n, 3).toString('base64');
      assert.deepEqual(issues(one([{ aesgcm: { keys: [{ name: 'k', secret: s }] } }, { aescbc: { keys: [{ name: 'k', secret: s }] } }])), []);
      const sb = issues(one([{ secretbox: { keys: [{ name: 'k', secret: s }] } }]));
      assert.equal(sb.length, n === 32 ? 0 : 1);
    }
    assert.ok(has(issues(one([{ aescbc: { keys: [{ name: 'k', secret: Buffer.alloc(28).toString('base64') }] } }])), 'resources[0].providers[0].aescbc.keys[0].secret', /got 28, expected one of \[16 24 32\]/));
  });
  it('puts no restriction on key names (":" , non-ASCII, repeats)', () => {
    assert.deepEqual(issues(one([{ aescbc: { keys: [{ name: 'clé:1', secret: K16 }, { name: 'clé:1', secret: K32 }] } }])), []);
  });
  it('rejects resource names with capital letters', () => {
    assert.ok(has(issues(one([{ identity: {} }], ['Secrets'])), 'resources[0].resources[0]', /capital/));
  });
  it("rejects a bare '*'", () => {
    assert.ok(has(issues(one([{ identity: {} }], ['*'])), 'resources[0].resources[0]', /use '\*\.'/));
  });
  it('rejects resources without a REST API', () => {
    for (const r of ['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations']) {
      assert.ok(has(issues(one([{ identity: {} }], [r])), 'resources[0].resources[0]', /do not have REST/));
    }
  });
  it('rejects the events.k8s.io group', () => {
    assert.ok(has(issues(one([{ identity: {} }], ['*.events.k8s.io'])), 'resources[0].resources[0]', /events/));
  });
  it('rejects the extensions group', () => {
    assert.ok(has(issues(one([{ identity: {} }], ['ingresses.extensions'])), 'resources[0].resources[0]', /extensions/));
  });
  it("rejects 'resource.*' across groups", () => {
    assert.ok(has(issues(one([{ identity: {} }], ['secrets.*'])), 'resources[0].resources[0]', /across groups/));
  });
  it('rejects duplicates and overlaps within one list, but not *.apps with *.', () => {
    assert.ok(has(issues(one([{ identity: {} }], ['secrets', 'secrets'])), 'resources[0].resources', /multiple times/));
    assert.ok(has(issues(one([{ identity: {} }], ['secrets', '*.'])), 'resources[0].resources', /overlapping/));
    assert.ok(has(issues(one([{ identity: {} }], ['*.*', 'deployments.apps'])), 'resources[0].resources', /overlapping/));
    assert.deepEqual(issues(one([{ identity: {} }], ['*.apps', '*.'])), []);
  });
  it('requires a kms name', () => {
    assert.ok(has(issues(one([kms({ apiVersion: 'v2' })])), 'resources[0].providers[0].kms.name', /mandatory/));
  });
  it("forbids ':' in kms v2 names but not in v1 names", () => {
    assert.ok(has(issues(one([kms({ apiVersion: 'v2', name: 'foo:bar' })])), 'resources[0].providers[0].kms.name', /must not contain ':'/));
    assert.deepEqual(issues(one([kms({ name: 'foo:bar' })])), []);
  });
  it('checks kms name uniqueness in order (v2 after any; v1 only with reload)', () => {
    assert.ok(has(issues(one([kms({ name: 'foo' }), kms({ apiVersion: 'v2', name: 'foo' })])), 'resources[0].providers[1].kms.name', /duplicate/));
    assert.deepEqual(issues(one([kms({ apiVersion: 'v2', name: 'foo' }), kms({ name: 'foo' })])), []);
    assert.deepEqual(issues(one([kms({ name: 'foo' }), kms({ name: 'foo' })])), []);
    assert.ok(has(issues(one([kms({ name: 'foo' }), kms({ name: 'foo' })]), true), 'resources[0].providers[1].kms.name', /duplicate/));
    const across = cfg([
      { resources: ['secrets'], providers: [kms({ apiVersion: 'v2', name: 'foo' })] },
      { resources: ['configmaps'], providers: [kms({ apiVersion: 'v2', name: 'foo' })] },
    ]);
    assert.ok(has(issues(across), 'resources[1].providers[0].kms.name', /duplicate/));
  });
  it('requires a positive kms timeout', () => {
    assert.ok(has(issues(one([kms({ name: 'a', timeout: '0s' })])), 'resources[0].providers[0].kms.timeout', /positive/));
    assert.ok(has(issues(one([kms({ name: 'a', timeout: '-1s' })])), 'resources[0].providers[0].kms.timeout', /positive/));
    assert.deepEqual(issues(one([kms({ name: 'a', timeout: '1m30s' })])), []);
  });
  it('requires a unix kms endpoint', () => {
    assert.ok(has(issues(one([{ kms: { name: 'a' } }])), 'resources[0].providers[0].kms.endpoint', /mandatory/));
    assert.ok(has(issues(one([{ kms: { name: 'a', endpoint: 'https://kms:443' } }])), 'resources[0].providers[0].kms.endpoint', /unsupported scheme "https"/));
  });
  it('rejects cachesize on v2 and 0 on v1; negative disables the v1 cache', () => {
    assert.ok(has(issues(one([kms({ apiVersion: 'v2', name: 'a', cachesize: 10 })])), 'resources[0].providers[0].kms.cachesize', /not supported in v2/));
    assert.ok(has(issues(one([kms({ name: 'a', cachesize: 0 })])), 'resources[0].providers[0].kms.cachesize', /positive/));
    assert.deepEqual(issues(one([kms({ name: 'a', cachesize: -1 })])), []);
  });
  it('accepts kms apiVersion v1 and v2 only', () => {
    assert.ok(has(issues(one([kms({ apiVersion: 'v3', name: 'a' })])), 'resources[0].providers[0].kms.apiVersion', /unsupported apiVersion/));
  });
  it('applies the v1 defaults (apiVersion v1, timeout 3s, cachesize 1000 for v1 only)', () => {
    const c = one([kms({ name: 'a' }), kms({ apiVersion: 'v2', name: 'b' })]);
    assert.deepEqual(c.resources[0]!.providers[0]!.kms, { apiVersion: 'v1', name: 'a', endpoint: 'unix:///tmp/k.sock', timeoutMs: 3000, cachesize: 1000 });
    assert.equal(c.resources[0]!.providers[1]!.kms!.cachesize, undefined);
  });
  it('decodes strictly: unknown fields, duplicate keys, missing or unknown kind, empty file', () => {
    const bad = (t: string) => assert.throws(() => parseEncryptionConfig(t), (e: { code?: string }) => e.code === 'ERR_ENCCONFIG_PARSE');
    bad('');
    bad('kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources: []\nextra: 1\n');
    bad('kind: EncryptionConfiguration\nkind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\n');
    bad('apiVersion: apiserver.config.k8s.io/v1\nresources: []\n');
    bad('kind: EncryptionConfig\napiVersion: apiserver.config.k8s.io/v1\nresources: []\n');
    assert.equal(parseEncryptionConfig('kind: EncryptionConfig\napiVersion: v1\nresources: []\n').kind, 'EncryptionConfig');
  });
  it('rejects a rule masked by an earlier wildcard when building transformers', () => {
    const masked = cfg([
      { resources: ['*.'], providers: [{ identity: {} }] },
      { resources: ['secrets'], providers: [{ identity: {} }] },
    ]);
    assert.deepEqual(issues(masked), []);
    assert.ok(checkBuildable(masked).some((i) => /masked by earlier rule "\*\."/.test(i.message)));
    const fine = cfg([
      { resources: ['events'], providers: [{ identity: {} }] },
      { resources: ['*.*'], providers: [{ aesgcm: { keys: [{ name: 'k', secret: K32 }] } }] },
    ]);
    assert.deepEqual(checkBuildable(fine), []);
  });
});
