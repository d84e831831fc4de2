/**
 * HSM-held CA keys (issue 19 item 2) through the real server: with mount option key_storage=hsm the
 * CA key is a non-extractable P-256 object in SoftHSM2, `exported` is refused, issuance and CRLs
 * are signed on the token (openssl verifies them), and the key is found again after a restart.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { createSoftHsmToken, execFileP, type SoftHsmToken, tempDir } from '../harness/index.ts';

describe('pki CA keys in the HSM (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess | undefined;
  let unsealKey = '';
  let root = '';
  let caPem = '';
  const start = () => startArca({
    config: { dataDir: `${dir.path}/data`, keys: { pkcs11: { module: hsm.module, tokenLabel: hsm.label, pinFile: `${dir.path}/pin` } } },
    configDir: dir.path, env: hsm.env,
  });
  const verify = async (leaf: string) => {
    const ca = join(dir.path, 'ca.pem');
    const l = join(dir.path, 'leaf.pem');
    await writeFile(ca, caPem);
    await writeFile(l, leaf);
    return execFileSync('openssl', ['verify', '-CAfile', ca, l], { encoding: 'utf8' });
  };

  before(async () => {
    hsm = await createSoftHsmToken('arca-pki');
    dir = await tempDir();
    await writeFile(`${dir.path}/pin`, `${hsm.pin}\n`, { mode: 0o600 });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
    await hsm?.remove();
  });

  it('generates the CA key as a non-extractable token object and refuses exported', async () => {
    srv = await start();
    ({ root, key: unsealKey } = await initUnsealed(srv));
    const c = srv.client(root);
    await c.write('sys/mounts/pki-hsm', { type: 'pki', options: { key_storage: 'hsm' } });
    const exp = await c.request('POST', 'pki-hsm/root/generate/exported', { common_name: 'HSM Root' });
    assert.equal(exp.status, 400);
    assert.equal((exp.body['error'] as { code: string }).code, 'ERR_PKI_KEY_NOT_EXPORTABLE');
    const rsa = await c.request('POST', 'pki-hsm/root/generate/internal', { common_name: 'HSM Root', key_type: 'rsa' });
    assert.equal((rsa.body['error'] as { code: string }).code, 'ERR_PKI_KEY_TYPE');
    const r = (await c.write('pki-hsm/root/generate/internal', { common_name: 'HSM Root', key_type: 'ec' })).body['data'] as { certificate: string; private_key?: string };
    assert.equal(r.private_key, undefined);
    caPem = r.certificate;
    const objs = await execFileP('pkcs11-tool', ['--module', hsm.module, '--token-label', hsm.label, '--login', '--pin', hsm.pin, '--list-objects', '--type', 'privkey'], { env: { ...process.env, ...hsm.env } });
    assert.match(objs.stdout, /arca-pki-ca-[0-9a-f]{32}/);
    assert.match(objs.stdout, /never extractable/i);
    assert.match(objs.stdout, /sensitive/i);
    // The self-signed CA verifies with openssl (signed on the token).
    await verify(caPem);
  });

  it('issues and revokes with the HSM key, and after a restart', async () => {
    let c = srv!.client(root);
    await c.write('pki-hsm/roles/svc', { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', max_ttl: '24h' });
    const leaf = (await c.write('pki-hsm/issue/svc', { common_name: 'a.example.com', ttl: '1h' })).body['data'] as { certificate: string; serial_number: string };
    assert.match(await verify(leaf.certificate), /OK/);
    await c.write('pki-hsm/revoke', { serial_number: leaf.serial_number });
    const crl = await (await fetch(`${srv!.addr}/v1/pki-hsm/crl/pem`, { headers: { 'x-vault-token': root } })).text();
    const crlFile = join(dir.path, 'crl.pem');
    await writeFile(crlFile, crl);
    await writeFile(join(dir.path, 'ca.pem'), caPem);
    const out = spawnSync('openssl', ['crl', '-in', crlFile, '-CAfile', join(dir.path, 'ca.pem'), '-noout', '-text'], { encoding: 'utf8' });
    assert.match(out.stderr, /verify OK/, 'the CRL signature (made on the token) verifies');
    assert.ok(out.stdout.toUpperCase().includes(leaf.serial_number.replace(/:/g, '').toUpperCase()));

    await srv!.stop();
    srv = await start();
    await srv.client().write('sys/unseal', { key: unsealKey });
    c = srv.client(root);
    const again = (await c.write('pki-hsm/issue/svc', { common_name: 'b.example.com', ttl: '1h' })).body['data'] as { certificate: string };
    assert.match(await verify(again.certificate), /OK/);
  });
});
