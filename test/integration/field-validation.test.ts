/**
 * Issue 12 items 2 and 8 through the real server: out-of-range numbers and durations are 400s that
 * change nothing (the transit key and the KV mount stay usable), sys/mounts enable/tune lease TTLs
 * are range-checked, and a request value never reaches an error message, the audit log (in
 * plaintext) or the server log.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ArcaClient } from '../../src/client/index.ts';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { tempDir, waitFor } from '../harness/index.ts';

interface Body {
  errors?: string[];
  error?: { code?: string; message?: string };
  data?: Record<string, unknown>;
}

describe('field validation through the server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let c: ArcaClient;
  const log = () => `${dir.path}/audit.log`;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    c = srv.client((await initUnsealed(srv)).root);
    await c.write('sys/audit/file', { type: 'file', options: { file_path: log() } });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  async function req(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
    const r = await c.request(method, path, body);
    return { status: r.status, body: r.body as Body };
  }

  async function refused(method: string, path: string, body: unknown, codes = ['ERR_FIELD_OUT_OF_RANGE']): Promise<Body> {
    const r = await req(method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(codes.includes(String(r.body.error?.code)), `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  it('refuses auto_rotate_period 1e20 and the key stays fully usable', async () => {
    assert.equal((await req('POST', 'transit/keys/k', {})).status, 200);
    const pt = Buffer.from('hello').toString('base64');
    const ct = (await c.write('transit/encrypt/k', { plaintext: pt })).body['data'] as { ciphertext: string };
    const b = await refused('POST', 'transit/keys/k/config', { auto_rotate_period: 1e20 });
    assert.match(b.error?.message ?? '', /auto_rotate_period/);
    await refused('POST', 'transit/keys/k/config', { auto_rotate_period: '99999999999h' });
    // A key config write re-reads the stored record (no cache): it would fail if the bad value had landed.
    assert.equal((await req('POST', 'transit/keys/k/config', { min_decryption_version: 1 })).status, 200);
    const back = (await c.write('transit/decrypt/k', { ciphertext: ct.ciphertext })).body['data'] as { plaintext: string };
    assert.equal(back.plaintext, pt);
    assert.equal(((await c.read('transit/keys/k')).body['data'] as { auto_rotate_period: number }).auto_rotate_period, 0);
    assert.equal((await req('POST', 'transit/keys/k/config', { deletion_allowed: true })).status, 200);
    assert.equal((await req('DELETE', 'transit/keys/k')).status, 204);
  });

  it('refuses delete_version_after 1e20 and "99999999999h" and the mount stays writable', async () => {
    for (const v of [1e20, '99999999999h']) {
      await refused('POST', 'secret/config', { delete_version_after: v });
      await refused('POST', 'secret/metadata/m', { delete_version_after: v });
    }
    assert.equal((await req('POST', 'secret/data/m', { data: { a: '1' } })).status, 200);
    const cfg = (await c.read('secret/config')).body['data'] as { delete_version_after: string };
    assert.equal(cfg.delete_version_after, '0s');
  });

  it('range-checks sys/mounts lease TTLs on enable and tune, and changes nothing when it refuses', async () => {
    for (const v of [-1, 1e20, '99999999999h', 'NaN']) {
      const codes = [v === 'NaN' ? 'ERR_INVALID_REQUEST' : 'ERR_FIELD_OUT_OF_RANGE'];
      await refused('POST', 'sys/mounts/bad', { type: 'transit', config: { default_lease_ttl: v } }, codes);
      await refused('POST', 'sys/mounts/secret/tune', { max_lease_ttl: v }, codes);
    }
    await refused('POST', 'sys/mounts/bad', { type: 'transit', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } });
    assert.equal(((await c.read('sys/mounts')).body['data'] as Record<string, unknown>)['bad/'], undefined);
    const tune = (await c.read('sys/mounts/secret/tune')).body['data'] as Record<string, unknown>;
    assert.deepEqual([tune['default_lease_ttl'], tune['max_lease_ttl']], [2764800, 2764800], "Vault's tune read gives the effective TTLs: the system's 768h");
    assert.equal((((await c.read('sys/mounts')).body['data'] as Record<string, { config: { max_lease_ttl: number } }>)['secret/']!).config.max_lease_ttl, 0, 'the mount list gives 0 for unset');
    assert.equal((await req('POST', 'sys/mounts/secret/tune', { default_lease_ttl: '1h', max_lease_ttl: '24h' })).status, 204);
    await refused('POST', 'sys/mounts/secret/tune', { default_lease_ttl: '48h' });
    const tuned = (await c.read('sys/mounts/secret/tune')).body['data'] as Record<string, unknown>;
    assert.deepEqual([tuned['default_lease_ttl'], tuned['max_lease_ttl']], [3600, 86400]);
    assert.equal((await req('POST', 'sys/mounts/secret/tune', { default_lease_ttl: 'system', max_lease_ttl: null })).status, 204);
    const reset = (await c.read('sys/mounts/secret/tune')).body['data'] as Record<string, unknown>;
    assert.deepEqual([reset['default_lease_ttl'], reset['max_lease_ttl']], [2764800, 86400], '"system" is the system default again');
  });

  it('names body fields Vault does not take on sys/mounts, sys/auth and KV data writes, never their values, and is quiet on those Vault clients send', async () => {
    const warnings = (r: { body: unknown }) => ((r.body as { warnings?: string[] | null }).warnings ?? []).join(' ');
    // What `vault secrets enable` sends: local and seal_wrap are Vault fields Arca does not use.
    const quiet = await c.request('POST', 'sys/mounts/fv-kv', { type: 'kv', options: { version: '2' }, local: false, seal_wrap: false, config: {}, plugin_version: '' });
    assert.ok(quiet.status < 300, JSON.stringify(quiet.body));
    assert.equal(warnings(quiet), '');
    const typo = await c.request('POST', 'sys/mounts/fv-kv2', { type: 'kv', conifg: { max_lease_ttl: '1h' } });
    assert.equal(typo.status, 200);
    assert.equal(warnings(typo), 'Endpoint ignored these unrecognized parameters: [conifg]');
    const auth = await c.request('POST', 'sys/auth/fv-up', { type: 'userpass', local: false, descripton: 'x' });
    assert.equal(auth.status, 200);
    assert.equal(warnings(auth), 'Endpoint ignored these unrecognized parameters: [descripton]');

    // A secret written beside `data` instead of inside it: the warning names the key, never the value.
    const w = await c.request('POST', 'fv-kv/data/app', { data: { user: 'u' }, password: 'pw-outside-data-7f3a', options: {} });
    assert.equal(w.status, 200);
    assert.equal(warnings(w), 'Endpoint ignored these unrecognized parameters: [password]');
    assert.equal(JSON.stringify(w.body).includes('pw-outside-data-7f3a'), false);
    const stored = ((await c.read('fv-kv/data/app')).body['data'] as { data: Record<string, string> }).data;
    assert.deepEqual(stored, { user: 'u' }, 'the stray field was not stored');
    const clean = await c.request('POST', 'fv-kv/data/app', { data: { user: 'v' }, options: { cas: 1 } });
    assert.equal(warnings(clean), '');
    const patched = await c.request('PATCH', 'fv-kv/data/app', { data: { role: 'r' }, extra: 1 }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(warnings(patched), 'Endpoint ignored these unrecognized parameters: [extra]');
  });

  it('names body fields transit does not take on encrypt, decrypt, rewrap, datakey, hash and random, never their values', async () => {
    const warnings = (r: { body: unknown }) => ((r.body as { warnings?: string[] | null }).warnings ?? []).join(' ');
    assert.equal((await req('POST', 'transit/keys/fv-t', {})).status, 200);
    const pt = Buffer.from('fv-transit').toString('base64');
    const enc = await c.request('POST', 'transit/encrypt/fv-t', { plaintext: pt });
    assert.equal(warnings(enc), '', 'the body a Vault client sends');
    const ct = (enc.body['data'] as { ciphertext: string }).ciphertext;
    // `contxt` for `context`: Vault would not derive the key from it, and neither does Arca, so say so.
    const typo = await c.request('POST', 'transit/encrypt/fv-t', { plaintext: pt, contxt: 'c2VjcmV0LWN0eA==' });
    assert.equal(typo.status, 200);
    assert.equal(warnings(typo), 'Endpoint ignored these unrecognized parameters: [contxt]');
    assert.equal(JSON.stringify(typo.body).includes('c2VjcmV0LWN0eA=='), false);
    for (const [path, body, stray] of [
      ['transit/decrypt/fv-t', { ciphertext: ct, key_verison: 1 }, 'key_verison'],
      ['transit/rewrap/fv-t', { ciphertext: ct, plaintext: pt }, 'plaintext'],
      ['transit/datakey/wrapped/fv-t', { bit: 256 }, 'bit'],
      ['transit/hash/sha2-256', { input: pt, fromat: 'hex' }, 'fromat'],
      ['transit/random/16', { foramt: 'hex' }, 'foramt'],
      ['transit/encrypt/fv-t', { batch_input: [{ plaintext: pt }], batch: true }, 'batch'],
    ] as const) {
      const r = await c.request('POST', path, body);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(warnings(r), `Endpoint ignored these unrecognized parameters: [${stray}]`, path);
    }
  });

  it('never quotes a request value in an error, the audit log or the server log', async () => {
    const secret = 's3cr3t-value-5b1d9e';
    const bad: [string, string, Record<string, unknown>][] = [
      ['POST', 'secret/data/x', { data: secret }],
      ['POST', 'secret/data/x', { data: { a: 1 }, options: secret }],
      ['POST', 'secret/data/x', { data: { a: 1 }, options: { cas: secret } }],
      ['POST', 'secret/metadata/x', { max_versions: secret }],
      ['POST', 'secret/metadata/x', { delete_version_after: secret }],
      ['POST', 'secret/metadata/x', { cas_required: secret }],
      ['POST', 'secret/metadata/x', { custom_metadata: { [secret]: '\u0007' } }],
      ['POST', 'secret/metadata/x', { custom_metadata: { k: `${secret}\u0007` } }],
      ['POST', 'secret/delete/x', { versions: secret }],
      ['GET', `secret/data/x?version=${secret}`, {}],
      ['POST', 'transit/keys/t', { type: secret }],
      ['POST', 'transit/keys/t', { auto_rotate_period: secret }],
      ['POST', 'transit/encrypt/t', { plaintext: secret }],
      ['POST', 'transit/encrypt/t', { plaintext: 'aGk=', key_version: secret }],
      ['POST', 'transit/hash', { input: 'aGk=', algorithm: secret }],
      ['POST', 'transit/hash', { input: 'aGk=', format: secret }],
      ['POST', 'transit/random', { bytes: secret }],
      ['POST', 'transit/random', { format: secret }],
      ['POST', 'sys/mounts/secret/tune', { default_lease_ttl: secret }],
    ];
    for (const [method, path, body] of bad) {
      const r = await req(method, path, method === 'GET' ? undefined : body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)} → ${r.status}`);
      assert.equal(JSON.stringify(r.body).includes(secret), false, `${path}: the error quotes the value: ${JSON.stringify(r.body)}`);
    }
    const audit = await waitFor('audit entries of the refused requests', async () => {
      const t = await readFile(log(), 'utf8').catch(() => '');
      return t.includes('sys/mounts/secret/tune') && t.split('\n').filter((l) => l.includes('"error"')).length >= bad.length ? t : undefined;
    });
    const entries = audit.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { error?: string; request?: { path?: string; data?: unknown } });
    for (const e of entries) assert.equal(String(e.error ?? '').includes(secret), false, `an audit error field quotes the value: ${e.error}`);
    // The value sent as `data` (the case) is HMAC'd like any KV data. Other fields are logged as
    // the audit policy says (engines' sensitiveFields); only their error texts are asserted above.
    const dataCase = entries.filter((e) => e.request?.path === 'secret/data/x' && JSON.stringify(e.request.data).includes('"data":"hmac-sha256:'));
    assert.equal(dataCase.length, 2, 'request and response entries of the bad KV write, value HMAC\'d');
    assert.equal(JSON.stringify(dataCase).includes(secret), false);
    assert.equal(srv.output().includes(secret), false, 'the server log holds the value');
  });
});
