/**
 * `arca kms-plugin --auth cert`: the plugin logs in with the node's certificate from the
 * control-plane PKI over the server's TLS listener, with no token file and no ARCA_TOKEN, passes the
 * KMS plugin conformance suite, and is refused with a certificate from the wrong CA or an expired one.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { x509 } from '../../src/engines/pki/x509-lib.ts';
import { type ConformanceContext, exerciseKmsPlugin, KmsTestClient, type PluginProcess, startPlugin } from '../../src/kms-plugin/testing.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { execFileP, tempDir, waitFor } from '../harness/index.ts';

const HEALTH_MS = 1000;
const ROOT = 'root-T';

/** A CA and a client certificate that expired an hour ago, made in-process (no clock tricks). */
async function expiredPair(dir: string): Promise<{ caPem: string; cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const sig = { name: 'ECDSA', hash: 'SHA-256' };
  const ca = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=expired-test-ca', keys: ca as never, signingAlgorithm: sig, notBefore: new Date(now - 86400_000), notAfter: new Date(now + 86400_000),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=cp-1', issuer: caCert.subjectName, notBefore: new Date(now - 7200_000), notAfter: new Date(now - 3600_000),
    publicKey: leaf.publicKey as never, signingKey: ca.privateKey as never, signingAlgorithm: sig,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const keyPem = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leaf.privateKey)), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFile(join(dir, 'expired.crt'), cert.toString('pem'));
  await writeFile(join(dir, 'expired.key'), keyPem, { mode: 0o600 });
  return { caPem: caCert.toString('pem'), cert: join(dir, 'expired.crt'), key: join(dir, 'expired.key') };
}

describe('kms-plugin with --auth cert (no token file)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: ArcaClient;
  let plugin: PluginProcess;
  let addr: string;
  let args: string[];
  const socket = () => join(dir.path, 'kms.sock');
  const env = { ARCA_TOKEN: '', VAULT_TOKEN: '' };

  async function issue(mount: string, name: string): Promise<{ cert: string; key: string }> {
    const d = (await root.write(`${mount}/issue/node`, { common_name: 'cp-1', ttl: '1h', exclude_cn_from_sans: true })).body['data'] as { certificate: string; private_key: string };
    await writeFile(join(dir.path, `${name}.crt`), d.certificate);
    await writeFile(join(dir.path, `${name}.key`), d.private_key, { mode: 0o600 });
    return { cert: join(dir.path, `${name}.crt`), key: join(dir.path, `${name}.key`) };
  }
  const pluginArgs = (f: { cert: string; key: string }) => ['--key', 'k8s-kek', '--addr', addr, '--cacert', join(dir.path, 'tls-ca.crt'), '--auth', 'cert',
    '--client-cert', f.cert, '--client-key', f.key, '--health-interval', `${HEALTH_MS}ms`];

  before(async () => {
    dir = await tempDir('arca-kms-cert-');
    const d = dir.path;
    await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/tls-ca.key`, '-out', `${d}/tls-ca.crt`, '-days', '2', '-subj', '/CN=tls-ca']);
    await execFileP('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/tls.key`, '-out', `${d}/tls.csr`, '-subj', '/CN=arca']);
    await writeFile(`${d}/ext`, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await execFileP('openssl', ['x509', '-req', '-in', `${d}/tls.csr`, '-CA', `${d}/tls-ca.crt`, '-CAkey', `${d}/tls-ca.key`, '-CAcreateserial', '-days', '2', '-out', `${d}/tls.crt`, '-extfile', `${d}/ext`]);
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT], config: { tls: { certFile: `${d}/tls.crt`, keyFile: `${d}/tls.key` } }, configDir: d, wait: false });
    addr = `https://127.0.0.1:${srv.port}`;
    root = new ArcaClient({ addr, token: ROOT, caCert: `${d}/tls-ca.crt`, timeoutMs: 5000 });
    await waitFor('https server', async () => ((await root.request('GET', 'sys/seal-status').catch(() => undefined))?.status === 200 ? true : undefined), 60_000, 200);
    await root.write('transit/keys/k8s-kek', {});
    for (const m of ['pki-kubernetes', 'pki-other']) {
      await root.write(`sys/mounts/${m}`, { type: 'pki' });
      await root.write(`${m}/root/generate/internal`, { common_name: m, key_type: 'ec' });
      await root.write(`${m}/roles/node`, { allow_any_name: true, enforce_hostnames: false, key_type: 'ec', server_flag: false, client_flag: true });
    }
    await root.write('sys/policies/acl/kms-plugin', { policy: 'path "transit/keys/k8s-kek" { capabilities = ["read"] }\npath "transit/encrypt/k8s-kek" { capabilities = ["update"] }\npath "transit/decrypt/k8s-kek" { capabilities = ["update"] }' });
    await root.write('sys/auth/cert', { type: 'cert' });
    const caPem = ((await root.read('pki-kubernetes/cert/ca')).body['data'] as { certificate: string }).certificate;
    await root.write('auth/cert/certs/control-plane', { certificate: caPem, allowed_common_names: 'cp-*', token_policies: 'kms-plugin', token_ttl: '1h' });
    args = pluginArgs(await issue('pki-kubernetes', 'node'));
    plugin = await startPlugin(socket(), args, env);
  });
  after(async () => {
    await plugin?.stop();
    root?.close();
    await srv?.stop();
    await dir?.remove();
  });

  const ctx = (): ConformanceContext => ({
    socket: socket(),
    healthIntervalMs: HEALTH_MS,
    async rotate() {
      await root.write('transit/keys/k8s-kek/rotate', {});
    },
    async restart() {
      assert.equal(await plugin.stop(), 0);
      plugin = await startPlugin(socket(), args, env);
    },
  });
  exerciseKmsPlugin(ctx);

  async function unhealthy(f: { cert: string; key: string }, name: string): Promise<string> {
    const sock = join(dir.path, `${name}.sock`);
    const p = await startPlugin(sock, pluginArgs(f), env);
    const c = new KmsTestClient(sock);
    try {
      const st = await c.status();
      assert.notEqual(st.healthz, 'ok', `${name}: a refused login must not report healthy`);
      await assert.rejects(c.encrypt(new Uint8Array(32)));
      return p.output();
    } finally {
      c.close();
      await p.stop();
    }
  }

  it('is refused with a certificate from the wrong CA', async () => {
    const out = await unhealthy(await issue('pki-other', 'other'), 'wrongca');
    assert.match(out, /ERR_CERT_AUTH_INVALID/);
  });

  it('is refused with an expired certificate', async () => {
    const e = await expiredPair(dir.path);
    await root.write('auth/cert/certs/expired-ca', { certificate: e.caPem, token_policies: 'kms-plugin' });
    const out = await unhealthy(e, 'expired');
    assert.match(out, /ERR_CERT_AUTH_INVALID/);
  });

  it('re-reads its certificate files when they change (renewal) and logs in again with them', async () => {
    const c = new KmsTestClient(socket());
    const healthz = () => c.status().then((st) => st.healthz);
    try {
      const other = await issue('pki-other', 'swap');
      // Wrong-CA files in place of the node's: the next login fails, so health must drop.
      await copyFile(other.cert, join(dir.path, 'node.crt'));
      await copyFile(other.key, join(dir.path, 'node.key'));
      await waitFor('unhealthy after the swap', async () => ((await healthz()) !== 'ok' ? true : undefined), 60_000, 200);
      // A renewed certificate from the right CA: healthy again, no restart.
      const fresh = await issue('pki-kubernetes', 'fresh');
      await copyFile(fresh.key, join(dir.path, 'node.key'));
      await copyFile(fresh.cert, join(dir.path, 'node.crt'));
      await waitFor('healthy with the renewed cert', async () => ((await healthz()) === 'ok' ? true : undefined), 60_000, 200);
    } finally {
      c.close();
    }
  });
});
