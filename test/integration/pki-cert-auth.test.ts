/**
 * auth/cert over the server's own TLS listener with certificates from the pki engine: a node cert
 * from the trusted CA logs in and gets its policies; a cert from another CA, one that misses the
 * role's name constraints, and no certificate at all are refused with codes; a token sent without
 * TLS client auth is unaffected. No header can stand in for the handshake.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { execFileP, tempDir } from '../harness/index.ts';

const ROOT = 'certauth-root-token';

describe('cert auth over TLS with pki-issued client certificates', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  let addr: string;
  let root: ArcaClient;
  const files: Record<string, { cert: string; key: string }> = {};
  const codeOf = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code?: string } | undefined)?.code;

  async function issue(mount: string, role: string, cn: string, name: string) {
    const d = (await root.write(`${mount}/issue/${role}`, { common_name: cn, ttl: '1h', exclude_cn_from_sans: true })).body['data'] as { certificate: string; private_key: string };
    const cert = join(dir.path, `${name}.crt`);
    const key = join(dir.path, `${name}.key`);
    await writeFile(cert, d.certificate);
    await writeFile(key, d.private_key, { mode: 0o600 });
    files[name] = { cert, key };
  }
  const clientWith = (name?: string) => new ArcaClient({ addr, caCert: join(dir.path, 'tls-ca.crt'), ...(name ? { clientCert: files[name]!.cert, clientKey: files[name]!.key } : {}) });

  before(async () => {
    dir = await tempDir();
    const d = dir.path;
    await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/tls-ca.key`, '-out', `${d}/tls-ca.crt`, '-days', '2', '-subj', '/CN=tls-ca']);
    await execFileP('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/tls.key`, '-out', `${d}/tls.csr`, '-subj', '/CN=arca']);
    await writeFile(`${d}/ext`, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await execFileP('openssl', ['x509', '-req', '-in', `${d}/tls.csr`, '-CA', `${d}/tls-ca.crt`, '-CAkey', `${d}/tls-ca.key`, '-CAcreateserial', '-days', '2', '-out', `${d}/tls.crt`, '-extfile', `${d}/ext`]);
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true, tls: { certFile: `${d}/tls.crt`, keyFile: `${d}/tls.key` } }), silentLogger(), d);
    await devBootstrap(srv.core, ROOT);
    addr = srv.address.replace(/^http:/, 'https:');
    root = new ArcaClient({ addr, token: ROOT, caCert: `${d}/tls-ca.crt` });
    for (const m of ['pki-nodes', 'pki-other']) {
      await root.write(`sys/mounts/${m}`, { type: 'pki' });
      await root.write(`${m}/root/generate/internal`, { common_name: `${m} CA`, key_type: 'ec' });
      await root.write(`${m}/roles/node`, { allow_any_name: true, enforce_hostnames: false, key_type: 'ec', server_flag: false, client_flag: true });
    }
    await issue('pki-nodes', 'node', 'cp-1', 'good');
    await issue('pki-nodes', 'node', 'intruder', 'badname');
    await issue('pki-other', 'node', 'cp-1', 'otherca');
    const caPem = ((await root.read('pki-nodes/cert/ca')).body['data'] as { certificate: string }).certificate;
    await root.write('sys/auth/cert', { type: 'cert' });
    await root.write('sys/policies/acl/kms', { policy: 'path "transit/encrypt/*" { capabilities = ["create", "update"] }' });
    await root.write('auth/cert/certs/nodes', { certificate: caPem, allowed_common_names: 'cp-*', token_policies: 'kms', token_ttl: '1h' });
  });
  after(async () => {
    root?.close();
    await srv?.close();
    await dir?.remove();
  });

  it('logs in with a client certificate from the trusted CA and gets the role policies', async () => {
    const c = clientWith('good');
    const r = await c.call('POST', 'auth/cert/login', {});
    const auth = r.body['auth'] as { client_token: string; policies: string[]; metadata: Record<string, string> };
    assert.ok(auth.client_token);
    assert.deepEqual([...auth.policies].sort(), ['default', 'kms']);
    assert.equal(auth.metadata['cert_name'], 'nodes');
    assert.equal(auth.metadata['common_name'], 'cp-1');
    c.token = auth.client_token;
    assert.equal((await c.request('POST', 'transit/encrypt/anykey', { plaintext: 'aGk=' })).status, 200);
    assert.equal((await c.request('GET', 'sys/mounts')).status, 403);
    c.close();
  });

  it('refuses a certificate from another CA, one outside the name constraints, and none', async () => {
    for (const [name, code] of [['otherca', 'ERR_CERT_AUTH_INVALID'], ['badname', 'ERR_CERT_AUTH_NO_MATCH'], [undefined, 'ERR_CERT_AUTH_INVALID']] as const) {
      const c = clientWith(name);
      const r = await c.request('POST', 'auth/cert/login', {});
      assert.equal(r.status, 400, String(name));
      assert.equal(codeOf(r), code, String(name));
      assert.equal(r.body['auth'], undefined);
      c.close();
    }
  });

  it("takes Vault's token fields on a certificate role: token_bound_cidrs at login, batch tokens", async () => {
    const caPem = ((await root.read('pki-nodes/cert/ca')).body['data'] as { certificate: string }).certificate;
    // A role that only a client inside 10.0.0.0/8 may use: this login comes from 127.0.0.1.
    await root.write('auth/cert/certs/pinned', { certificate: caPem, allowed_common_names: 'cp-*', token_policies: 'kms', token_bound_cidrs: '10.0.0.0/8' });
    const c = clientWith('good');
    const r = await c.request('POST', 'auth/cert/login', { name: 'pinned' });
    assert.equal(r.status, 403);
    assert.equal(codeOf(r), 'ERR_PERMISSION_DENIED');
    assert.match(JSON.stringify(r.body), /token_bound_cidrs/);

    await root.write('auth/cert/certs/pinned', { certificate: caPem, allowed_common_names: 'cp-*', token_policies: 'kms', token_bound_cidrs: '127.0.0.0/8', token_type: 'batch', token_ttl: '20m' });
    const role = (await root.read('auth/cert/certs/pinned')).body['data'] as Record<string, unknown>;
    assert.deepEqual([role['token_type'], role['token_bound_cidrs'], role['token_ttl'], role['display_name']], ['batch', ['127.0.0.0/8'], 1200, 'pinned']);
    const ok = await c.call('POST', 'auth/cert/login', { name: 'pinned' });
    const auth = ok.body['auth'] as { client_token: string; token_type: string; renewable: boolean; lease_duration: number };
    assert.match(auth.client_token, /^hvb\./);
    assert.deepEqual([auth.token_type, auth.renewable, auth.lease_duration], ['batch', false, 1200]);
    const holder = new ArcaClient({ addr, token: auth.client_token, caCert: join(dir.path, 'tls-ca.crt') });
    const self = (await holder.read('auth/token/lookup-self')).body['data'] as { display_name: string; bound_cidrs: string[] };
    assert.deepEqual([self.display_name, self.bound_cidrs], ['cert-pinned', ['127.0.0.0/8']]);
    holder.close();
    c.close();
    await root.delete('auth/cert/certs/pinned');
  });

  it('ignores certificate headers a proxy might set', async () => {
    const c = clientWith();
    const pem = Buffer.from(((await root.read('pki-nodes/cert/ca')).body['data'] as { certificate: string }).certificate).toString('base64');
    const r = await c.request('POST', 'auth/cert/login', {}, { 'x-forwarded-client-cert': pem, 'ssl-client-cert': pem });
    assert.equal(codeOf(r), 'ERR_CERT_AUTH_INVALID');
    c.close();
  });
});
