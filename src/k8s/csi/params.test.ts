import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../../errors/index.ts';
import { checkObjectName } from './object-name.ts';
import { parseMountConfig, parseObjects, parsePermission, TOKENS_ATTRIBUTE } from './params.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl';
const attrs = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    secretProviderClass: 'payments-db',
    'csi.storage.k8s.io/pod.name': 'api-1',
    'csi.storage.k8s.io/pod.namespace': 'payments',
    [TOKENS_ATTRIBUTE]: JSON.stringify({ arca: { token: TOKEN, expirationTimestamp: '2026-01-01T01:00:00Z' } }),
    roleName: 'app',
    audience: 'arca',
    objects: '- objectName: db-password\n  secretPath: secret/data/app/db\n  secretKey: password\n',
    ...over,
  });
const parse = (over: Record<string, unknown> = {}, permission = '420') => parseMountConfig({ attributes: attrs(over), secrets: '', permission });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    assert.ok(isArcaError(err), String(err));
    return err.code;
  }
  return 'no error';
};

describe('csi mount parameters', () => {
  it('parses the reference attribute shapes into a frozen config with the pod token behind Secret', () => {
    const c = parse();
    assert.equal(c.roleName, 'app');
    assert.equal(c.authMount, 'kubernetes');
    assert.equal(c.defaultMode, 0o644);
    assert.equal(c.token.reveal(), TOKEN);
    assert.equal(JSON.stringify(c).includes(TOKEN), false);
    const { renderer, ...plain } = c.objects[0]!;
    assert.deepEqual(plain, { objectName: 'db-password', secretPath: 'secret/data/app/db', secretKey: 'password', encoding: 'utf-8', apiPath: 'secret/data/app/db' });
    assert.equal(renderer.format, 'raw');
    assert.equal(parseObjects('- {objectName: a, secretPath: secret/app/db}\n')[0]!.apiPath, 'secret/data/app/db', 'the CLI spelling names the same secret');
    assert.equal(c.pod.namespace, 'payments');
    assert.ok(Object.isFrozen(c));
  });

  it('requires roleName, audience and objects', () => {
    assert.equal(code(() => parse({ roleName: undefined })), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parse({ audience: undefined })), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parse({ objects: undefined })), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parse({ objects: '[]' })), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseMountConfig({ attributes: '{not json', secrets: '', permission: '420' })), 'ERR_CSI_PARAMETER_INVALID');
  });

  it('takes the token only for the configured audience and never without one', () => {
    assert.equal(code(() => parse({ audience: 'vault' })), 'ERR_CSI_TOKEN_MISSING');
    assert.equal(code(() => parse({ [TOKENS_ATTRIBUTE]: undefined })), 'ERR_CSI_TOKEN_MISSING');
    // serviceAccountTokenInSecrets mode: the tokens arrive in the secrets JSON
    const inSecrets = parseMountConfig({
      attributes: attrs({ [TOKENS_ATTRIBUTE]: undefined }),
      secrets: JSON.stringify({ [TOKENS_ATTRIBUTE]: JSON.stringify({ arca: { token: TOKEN } }) }),
      permission: '420',
    });
    assert.equal(inSecrets.token.reveal(), TOKEN);
  });

  it('reads permission as a decimal mode and filePermission as octal', () => {
    assert.equal(parsePermission('420'), 0o644);
    assert.equal(parsePermission('288'), 0o440);
    assert.equal(code(() => parsePermission('0644x')), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parsePermission('512')), 'ERR_CSI_PARAMETER_INVALID');
    const o = (fp: string) => parseObjects(`- objectName: a\n  secretPath: secret/data/a\n  filePermission: ${fp}\n`)[0]!.filePermission;
    assert.equal(o('"0440"'), 0o440);
    assert.equal(o('0440'), 0o440, 'YAML 1.1: a bare leading-zero number is octal');
    assert.equal(o('"0o600"'), 0o600);
    assert.equal(code(() => o('"0800"')), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => o('"640"')), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => o('1000')), 'ERR_CSI_PARAMETER_INVALID');
  });

  it('refuses unknown object fields, bad encodings and encoding without secretKey', () => {
    const one = (extra: string) => code(() => parseObjects(`- objectName: a\n  secretPath: secret/data/a\n${extra}`));
    assert.equal(one('  path: x\n'), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(one('  secretKey: k\n  encoding: rot13\n'), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(one('  encoding: base64\n'), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(one('  version: 0\n'), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(one('  template: "{{a}}"\n  format: env\n'), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(one('  format: toml\n'), 'ERR_RENDER_INVALID');
    assert.equal(one('  template: "{{#a}}unclosed"\n'), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(one('  template: "{{> partial}}"\n'), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(code(() => parseObjects('- {objectName: a, secretPath: secret}\n')), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects('- objectName: a\n  secretPath: secret/data/../sys/x\n')), 'ERR_CSI_PARAMETER_INVALID');
  });

  it('refuses absolute, dotted and unclean object names, duplicates and file/dir collisions', () => {
    for (const bad of ['/etc/passwd', '../x', 'a/../b', '..', '.', './a', 'a/./b', 'a//b', 'a/', '', 'a\\b', 'a\0b']) {
      assert.equal(code(() => checkObjectName(bad, 'objects[0]')), 'ERR_CSI_OBJECT_NAME_INVALID', JSON.stringify(bad));
    }
    for (const good of ['a', 'db-password', 'db/password', '.env', 'a..b']) checkObjectName(good, 'objects[0]');
    assert.equal(code(() => parseObjects('- {objectName: a, secretPath: s/data/a}\n- {objectName: a, secretPath: s/data/b}\n')), 'ERR_CSI_OBJECT_NAME_INVALID');
    assert.equal(code(() => parseObjects('- {objectName: a, secretPath: s/data/a}\n- {objectName: a/b, secretPath: s/data/b}\n')), 'ERR_CSI_OBJECT_NAME_INVALID');
  });

  it('never echoes a parameter value in its errors', () => {
    const marker = 'VALUE-MARKER-7731';
    for (const over of [{ objects: `- objectName: /${marker}\n  secretPath: x/data/y\n` }, { objects: `- objectName: a\n  secretPath: s/data/a\n  encoding: ${marker}\n` }, { arcaAddress: `ftp://${marker}` }, { authMount: `../${marker}` }]) {
      try {
        parse(over);
        assert.fail('expected an error');
      } catch (err) {
        assert.ok(isArcaError(err));
        assert.equal(err.message.includes(marker), false, err.message);
      }
    }
  });

  it('throws only coded errors for any objects text and any attributes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (objects, raw) => {
        for (const f of [() => parseObjects(objects), () => parseMountConfig({ attributes: raw, secrets: raw, permission: raw })]) {
          try {
            f();
          } catch (err) {
            if (!isArcaError(err)) throw err;
          }
        }
      }),
    );
  });
});

describe('objects: templates over several secrets (secretPaths)', () => {
  const obj = (extra: string) => `- objectName: app.conf\n  secretPath: secret/data/app/db\n  template: "{{secrets.cache.data.host}}"\n${extra}`;
  it('maps each alias to its KV v2 read path', () => {
    const [o] = parseObjects(obj('  secretPaths: {cache: secret/data/app/redis, api: secret/app/api}\n'));
    assert.deepEqual(o!.secretPaths, { cache: 'secret/data/app/redis', api: 'secret/data/app/api' });
  });
  it('refuses secretPaths without a template, bad aliases and unclean paths before any read', () => {
    assert.equal(code(() => parseObjects('- {objectName: a, secretPath: secret/data/app/db, secretPaths: {c: secret/data/x}}')), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects(obj('  secretPaths: {"a.b": secret/data/app/redis}\n'))), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects(obj('  secretPaths: {c: secret/data/../root}\n'))), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects(obj('  secretPaths: {c: "secret/data/x?version=1"}\n'))), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects(obj('  secretPaths: [secret/data/x]\n'))), 'ERR_CSI_PARAMETER_INVALID');
    assert.equal(code(() => parseObjects(obj('  secretPaths: {}\n'))), 'ERR_CSI_PARAMETER_INVALID');
  });
});
