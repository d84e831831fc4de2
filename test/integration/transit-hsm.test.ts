/**
 * Issue 4 through the real server: `hsm-aes256-gcm96` transit keys live as non-extractable objects in a
 * PKCS#11 token (SoftHSM2), survive a server restart, and no key material reaches the data dir.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { createSoftHsmToken, execFileP, type SoftHsmToken, tempDir } from '../harness/index.ts';

describe('transit HSM keys through the server (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess | undefined;
  let key = '';
  let root = '';
  const start = () => startArca({
    config: { dataDir: `${dir.path}/data`, keys: { pkcs11: { module: hsm.module, tokenLabel: hsm.label, pinFile: `${dir.path}/pin` } } },
    configDir: dir.path, env: hsm.env,
  });
  const unseal = async () => srv!.client().write('sys/unseal', { key });

  before(async () => {
    hsm = await createSoftHsmToken('arca-transit');
    dir = await tempDir();
    await writeFile(`${dir.path}/pin`, `${hsm.pin}\n`, { mode: 0o600 });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
    await hsm?.remove();
  });

  it('creates an HSM key whose versions are non-extractable token objects', async () => {
    srv = await start();
    ({ root, key } = await initUnsealed(srv));
    const c = srv.client(root);
    await c.write('transit/keys/hsmk', { type: 'hsm-aes256-gcm96' });
    const k = (await c.read('transit/keys/hsmk')).body['data'] as { type: string; version_ids: Record<string, string> };
    assert.equal(k.type, 'hsm-aes256-gcm96');
    const objs = await execFileP('pkcs11-tool', ['--module', hsm.module, '--token-label', hsm.label, '--login', '--pin', hsm.pin, '--list-objects', '--type', 'secrkey'], { env: { ...process.env, ...hsm.env } });
    assert.match(objs.stdout, new RegExp(`arca-transit-${k.version_ids['1']}`));
    assert.match(objs.stdout, /never extractable|Access:.*never extractable/i);
  });

  it('encrypts, survives a restart, rotates and keeps old ciphertexts readable', async () => {
    const pt = Buffer.from('hsm-protected-plaintext').toString('base64');
    const ct1 = ((await srv!.client(root).write('transit/encrypt/hsmk', { plaintext: pt })).body['data'] as { ciphertext: string }).ciphertext;
    await srv!.stop();
    srv = await start();
    await unseal();
    const c = srv.client(root);
    assert.equal(((await c.write('transit/decrypt/hsmk', { ciphertext: ct1 })).body['data'] as { plaintext: string }).plaintext, pt);
    await c.write('transit/keys/hsmk/rotate', {});
    const ct2 = ((await c.write('transit/encrypt/hsmk', { plaintext: pt })).body['data'] as { ciphertext: string }).ciphertext;
    assert.match(ct2, /^vault:v2:/);
    for (const ct of [ct1, ct2]) assert.equal(((await c.write('transit/decrypt/hsmk', { ciphertext: ct })).body['data'] as { plaintext: string }).plaintext, pt);
    const tampered = ct2.slice(0, -4) + (ct2.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bad = await c.request('POST', 'transit/decrypt/hsmk', { ciphertext: tampered });
    assert.equal(bad.status, 400);
  });
});
