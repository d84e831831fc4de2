/**
 * A Vault client library from npm (node-vault 0.12) drives Arca unchanged: init, unseal, seal-status,
 * health, seal; KV v2 read/write/list (LIST verb); transit create/encrypt/decrypt/rotate; tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodeVault from 'node-vault';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

describe('node-vault against a real Arca server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
  let vault: any;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    vault = nodeVault({ apiVersion: 'v1', endpoint: srv.addr });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('initializes, unseals and reports status and health', async () => {
    assert.equal((await vault.initialized()).initialized, false);
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.keys.length, 3);
    vault.token = init.root_token;
    let st = await vault.status();
    assert.equal(st.sealed, true);
    assert.equal(st.t, 2);
    assert.equal(st.n, 3);
    st = await vault.unseal({ key: init.keys[0] });
    assert.equal(st.progress, 1);
    st = await vault.unseal({ key: init.keys[2] });
    assert.equal(st.sealed, false);
    const h = await vault.health();
    assert.equal(h.initialized, true);
    assert.equal(h.sealed, false);
    assert.equal(h.standby, false);
  });

  it('writes, reads and lists KV v2 secrets', async () => {
    await vault.write('secret/data/app/db', { data: { user: 'app', password: 'pw-1' } });
    await vault.write('secret/data/app/api', { data: { key: 'k' } });
    const r = await vault.read('secret/data/app/db');
    assert.equal(r.data.data.password, 'pw-1');
    assert.equal(r.data.metadata.version, 1);
    const l = await vault.list('secret/metadata/app');
    assert.deepEqual(l.data.keys, ['api', 'db']);
  });

  it('creates a transit key, encrypts, decrypts and rotates', async () => {
    await vault.transitCreateKey({ name: 'nv' });
    const plaintext = Buffer.from('hello from node-vault').toString('base64');
    const e1 = await vault.encryptData({ name: 'nv', plaintext });
    assert.match(e1.data.ciphertext, /^vault:v1:/);
    await vault.write('transit/keys/nv/rotate', {});
    const e2 = await vault.encryptData({ name: 'nv', plaintext });
    assert.match(e2.data.ciphertext, /^vault:v2:/);
    for (const ct of [e1.data.ciphertext, e2.data.ciphertext]) {
      const d = await vault.decryptData({ name: 'nv', ciphertext: ct });
      assert.equal(d.data.plaintext, plaintext);
    }
    const k = await vault.transitReadKey({ name: 'nv' });
    assert.equal(k.data.latest_version, 2);
  });

  it('creates and looks up tokens, and gets 403 with "invalid token" for a bad one', async () => {
    const root = vault.token;
    const t = await vault.tokenCreate({ policies: ['default'], ttl: '1h' });
    assert.match(t.auth.client_token, /^hvs\./);
    const self = await vault.tokenLookupSelf();
    assert.equal(self.data.ttl > 3500, true);
    vault.token = 'hvs.not-a-token';
    await assert.rejects(vault.read('secret/data/app/db'), (err: Error & { response?: { statusCode: number } }) => {
      assert.equal(err.response?.statusCode, 403);
      assert.match(err.message, /invalid token/);
      return true;
    });
    vault.token = root;
  });

  it('seals', async () => {
    await vault.seal();
    assert.equal((await vault.status()).sealed, true);
  });
});

describe('Vault parity details a client library relies on (issue 12 item 16)', () => {
  const ROOT = 'parity-root-token';
  let srv: ArcaProcess;
  before(async () => {
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
  });
  after(async () => srv?.stop());

  it('answers sys/capabilities-self for a root token with ["root"]', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: node-vault ships no types
    const vault: any = nodeVault({ apiVersion: 'v1', endpoint: srv.addr, token: ROOT });
    const r = await vault.write('sys/capabilities-self', { paths: ['secret/data/x'] });
    assert.deepEqual(r.data['secret/data/x'], ['root']);
    assert.deepEqual(r.capabilities, ['root']);
  });

  it('sends error responses with Content-Type application/json exactly', async () => {
    for (const [url, init] of [
      ['/v1/secret/data/x', {}],
      ['/v1/secret/data/x', { headers: { 'x-vault-token': 'hvs.bad' } }],
      ['/v1/no/such/mount', { headers: { 'x-vault-token': ROOT } }],
      ['/v1/%zz', {}],
    ] as [string, RequestInit][]) {
      const r = await fetch(`${srv.addr}${url}`, init);
      assert.ok(r.status >= 400, url);
      assert.equal(r.headers.get('content-type'), 'application/json', url);
    }
  });
});
