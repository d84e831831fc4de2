import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isArcaError } from '../errors/index.ts';
import { compileTemplate, parseFormat, prepareRender, renderSecret, type SecretInput } from './index.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(isArcaError(err), `not an ArcaError: ${String(err)}`);
    return err.code;
  }
}
const secret = { data: { user: 'app', password: 'p@ss w0rd', port: 5432, tags: ['a', 'b'], nested: { host: 'db' } }, metadata: { version: 3 } };

describe('renderSecret formats', () => {
  it('defaults to json, or raw with a field', () => {
    assert.deepEqual(JSON.parse(dec(renderSecret({}, secret))), secret.data);
    assert.equal(dec(renderSecret({ field: 'password' }, secret)), 'p@ss w0rd');
  });
  it('narrows a structured format to one field', () => {
    assert.equal(dec(renderSecret({ format: 'env', field: 'user' }, secret)), "user='app'\n");
    assert.equal(dec(renderSecret({ format: 'properties', field: 'port' }, secret)), 'port=5432\n');
    assert.equal(code(() => renderSecret({ format: 'yaml', field: 'nope' }, secret)), 'ERR_RENDER_FIELD_MISSING');
  });
  it('rejects unknown formats and contradictory specs at prepare time', () => {
    assert.equal(code(() => prepareRender({ format: 'xml' as 'raw' })), 'ERR_RENDER_INVALID');
    assert.equal(code(() => prepareRender({ format: 'raw', template: 'x' })), 'ERR_RENDER_INVALID');
    assert.equal(code(() => prepareRender({ field: 'a', template: 'x' })), 'ERR_RENDER_INVALID');
    assert.equal(code(() => prepareRender({ field: '' })), 'ERR_RENDER_INVALID');
    assert.equal(code(() => parseFormat('toml')), 'ERR_RENDER_INVALID');
    assert.equal(parseFormat('yaml'), 'yaml');
  });
});

describe('templates', () => {
  const render = (t: string, s: SecretInput = secret) => dec(renderSecret({ template: t }, s));
  it('substitutes fields and metadata without HTML escaping', () => {
    assert.equal(render('postgres://{{data.user}}:{{{data.password}}}@{{data.nested.host}}:{{data.port}}/x v{{metadata.version}}'), 'postgres://app:p@ss w0rd@db:5432/x v3');
    assert.equal(render('{{data.password}}', { data: { password: '<&"\'>' }, metadata: {} }), '<&"\'>');
  });
  it('iterates lists and scopes objects; inverted sections and comments', () => {
    assert.equal(render('{{#data.tags}}[{{.}}]{{/data.tags}}'), '[a][b]');
    assert.equal(render('{{#data.nested}}{{host}}/{{data.user}}{{/data.nested}}'), 'db/app');
    assert.equal(render('{{^data.empty}}none{{/data.empty}}{{! note }}', { data: { empty: [] }, metadata: {} }), 'none');
    assert.equal(render('{{=<% %>=}}<% data.user %>'), 'app');
  });
  it('is strict: a missing name is an error naming the tag, never an empty string', () => {
    for (const t of ['{{data.missing}}', '{{#data.missing}}x{{/data.missing}}', '{{^data.missing}}x{{/data.missing}}', '{{data.user.length}}', '{{missing}}']) {
      assert.equal(code(() => render(t)), 'ERR_RENDER_FIELD_MISSING', t);
    }
    assert.throws(() => render('{{data.nope}}'), { code: 'ERR_RENDER_FIELD_MISSING', message: /data\.nope/ });
  });
  it('cannot reach prototypes or call anything', () => {
    for (const t of ['{{constructor}}', '{{data.constructor}}', '{{data.__proto__}}', '{{data.toString}}', '{{#data.hasOwnProperty}}x{{/data.hasOwnProperty}}']) {
      assert.equal(code(() => render(t)), 'ERR_RENDER_FIELD_MISSING', t);
    }
  });
  it('refuses partials, unclosed tags and oversized templates at compile time', () => {
    assert.equal(code(() => compileTemplate('{{> other}}')), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(code(() => compileTemplate('{{#a}}{{> p}}{{/a}}')), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(code(() => compileTemplate('{{data.user')), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(code(() => compileTemplate('{{#a}}x')), 'ERR_RENDER_TEMPLATE_INVALID');
    assert.equal(code(() => compileTemplate('x'.repeat(70 * 1024))), 'ERR_RENDER_TEMPLATE_INVALID');
  });
  it('any template text either compiles or fails with a coded error, and renders or fails coded (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (t) => {
        let c: ReturnType<typeof compileTemplate> | undefined;
        try {
          c = compileTemplate(t);
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_RENDER_TEMPLATE_INVALID'), String(err));
        }
        if (!c) return;
        try {
          renderSecret({ template: t }, secret);
        } catch (err) {
          assert.ok(isArcaError(err, 'ERR_RENDER_FIELD_MISSING'), String(err));
          assert.ok(!(err as Error).message.includes('p@ss'));
        }
      }),
      { numRuns: 500 },
    );
  });
  it('a prepared renderer renders the same bytes for the same secret', () => {
    const r = prepareRender({ template: '{{data.user}}' });
    assert.deepEqual(r.render(secret), r.render(structuredClone(secret)));
  });
});

describe('templates over several secrets', () => {
  const multi: SecretInput = { ...secret, secrets: { cache: { data: { host: 'redis', password: 'r:pw' }, metadata: { version: 7 } }, api: { data: { key: 'k1' } } } };
  const render = (t: string) => dec(renderSecret({ template: t }, multi));
  it('reads other secrets by alias, by path or by opening their scope', () => {
    assert.equal(render('{{data.user}}@{{secrets.cache.data.host}} v{{secrets.cache.metadata.version}} {{secrets.api.data.key}}'), 'app@redis v7 k1');
    assert.equal(render('{{#secrets.cache}}{{data.host}}:{{data.password}}{{/secrets.cache}}'), 'redis:r:pw');
  });
  it('a missing alias or field is ERR_RENDER_FIELD_MISSING, and a single-secret render has no aliases', () => {
    assert.equal(code(() => render('{{secrets.nope.data.x}}')), 'ERR_RENDER_FIELD_MISSING');
    assert.equal(code(() => render('{{secrets.cache.data.nope}}')), 'ERR_RENDER_FIELD_MISSING');
    assert.equal(code(() => renderSecret({ template: '{{secrets.cache.data.host}}' }, secret)), 'ERR_RENDER_FIELD_MISSING');
  });
});
