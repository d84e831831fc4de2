/**
 * A Vault client library from npm (node-vault 0.12) drives a real `arca server --dev` unchanged:
 * create, upsert-on-encrypt, encrypt, decrypt, rotate, rewrap, read, list (LIST verb), delete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import vaultClient from 'node-vault';
import { z } from 'zod';
import { type ArcaProcess, startArca } from '../../../test/harness/arca.ts';

const ROOT = 'node-vault-root-token';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const encOut = z.object({ data: z.object({ ciphertext: z.string(), key_version: z.number() }) });
const decOut = z.object({ data: z.object({ plaintext: z.string() }) });

describe('transit through node-vault (real server)', () => {
  let arca: ArcaProcess;
  let vault: ReturnType<typeof vaultClient>;
  before(async () => {
    arca = await startArca({ args: ['--dev', '--dev-root-token', ROOT] });
    vault = vaultClient({ endpoint: arca.addr, token: ROOT });
  });
  after(async () => {
    await arca.stop();
  });

  it('creates a key, encrypts, decrypts, rotates and rewraps with the stock client', async () => {
    await vault.transitCreateKey({ name: 'orders' });
    const c1 = encOut.parse(await vault.encryptData({ name: 'orders', plaintext: b64('order #1') })).data;
    assert.match(c1.ciphertext, /^vault:v1:/);
    assert.equal(decOut.parse(await vault.decryptData({ name: 'orders', ciphertext: c1.ciphertext })).data.plaintext, b64('order #1'));
    await vault.write('transit/keys/orders/rotate', {});
    const c2 = encOut.parse(await vault.encryptData({ name: 'orders', plaintext: b64('order #2') })).data;
    assert.equal(c2.key_version, 2);
    assert.equal(decOut.parse(await vault.decryptData({ name: 'orders', ciphertext: c1.ciphertext })).data.plaintext, b64('order #1'));
    const re = encOut.parse(await vault.rewrapData({ name: 'orders', ciphertext: c1.ciphertext })).data;
    assert.match(re.ciphertext, /^vault:v2:/);
    const key = z.object({ data: z.object({ latest_version: z.number(), keys: z.record(z.string(), z.number()) }) }).parse(await vault.transitReadKey({ name: 'orders' }));
    assert.equal(key.data.latest_version, 2);
    assert.deepEqual(Object.keys(key.data.keys), ['1', '2']);
  });

  it('upserts a key on encrypt for a root token, lists with the LIST verb, and deletes once allowed', async () => {
    const c = encOut.parse(await vault.encryptData({ name: 'fresh', plaintext: b64('x') })).data;
    assert.equal(c.key_version, 1);
    const list = z.object({ data: z.object({ keys: z.array(z.string()) }) }).parse(await vault.transitListKeys());
    assert.ok(list.data.keys.includes('fresh'));
    await assert.rejects(vault.transitDeleteKey({ name: 'fresh' }), /deletion is not allowed/);
    await vault.write('transit/keys/fresh/config', { deletion_allowed: true });
    await vault.transitDeleteKey({ name: 'fresh' });
    await assert.rejects(vault.transitReadKey({ name: 'fresh' }), /404/);
  });

  it('needs the create capability to upsert: with update only, a missing key is not created', async () => {
    await vault.write('sys/policies/acl/encrypt-only', { policy: 'path "transit/encrypt/*" { capabilities = ["update"] }' });
    const tok = z.object({ auth: z.object({ client_token: z.string() }) }).parse(await vault.tokenCreate({ policies: ['encrypt-only'] }));
    vault.token = ROOT;
    const limited = vaultClient({ endpoint: arca.addr, token: tok.auth.client_token });
    await assert.rejects(limited.encryptData({ name: 'not-there', plaintext: b64('x') }), /encryption key not found|permission denied/);
    await assert.rejects(vault.transitReadKey({ name: 'not-there' }), /404/);
    const ok = encOut.parse(await limited.encryptData({ name: 'orders', plaintext: b64('x') })).data;
    assert.match(ok.ciphertext, /^vault:v/);
  });

  it('reports a forged ciphertext with Vault\'s fixed message', async () => {
    const c = encOut.parse(await vault.encryptData({ name: 'orders', plaintext: b64('y') })).data;
    const raw = Buffer.from(c.ciphertext.split(':')[2]!, 'base64');
    raw[raw.length - 1]! ^= 1;
    await assert.rejects(vault.decryptData({ name: 'orders', ciphertext: `vault:v${c.key_version}:${raw.toString('base64')}` }), /cipher: message authentication failed/);
  });
});
