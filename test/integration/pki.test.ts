/**
 * The pki engine through a real server: chains checked with the `openssl` CLI (not our own code),
 * role constraints refused with codes, revocation visible in a CRL that `openssl crl` parses, and
 * no_store certificates kept out of the store.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { tempDir } from '../harness/index.ts';

const ROOT = 'pki-root-token';

function openssl(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('pki engine (real server, openssl as the verifier)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  let root: ArcaClient;
  const file = async (name: string, text: string) => {
    const p = join(dir.path, name);
    await writeFile(p, text);
    return p;
  };
  const code = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code?: string } | undefined)?.code;

  before(async () => {
    dir = await tempDir();
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true }), silentLogger(), dir.path);
    await devBootstrap(srv.core, ROOT);
    root = new ArcaClient({ addr: srv.address, token: ROOT });
    await root.write('sys/mounts/pki', { type: 'pki' });
    await root.write('sys/mounts/pki_int', { type: 'pki' });
  });
  after(async () => {
    root?.close();
    await srv?.close();
    await dir?.remove();
  });

  it('builds root → intermediate → leaf chains that openssl verify accepts', async () => {
    const r = await root.write('pki/root/generate/internal', { common_name: 'Arca Test Root', key_type: 'ec', ttl: '87600h' });
    const rootPem = r.body['data'] as { certificate: string; expiration: number; serial_number: string };
    assert.equal(typeof rootPem.expiration, 'number');
    assert.match(rootPem.serial_number, /^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    assert.equal((r.body['data'] as Record<string, unknown>)['private_key'], undefined);

    const csr = ((await root.write('pki_int/intermediate/generate/internal', { common_name: 'Arca Test Intermediate', key_type: 'ec', key_bits: 384 })).body['data'] as { csr: string }).csr;
    const signed = (await root.write('pki/root/sign-intermediate', { csr, ttl: '43800h' })).body['data'] as { certificate: string };
    await root.write('pki_int/intermediate/set-signed', { certificate: `${signed.certificate}\n${rootPem.certificate}` });

    await root.write('pki_int/roles/web', { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', max_ttl: '72h', organization: ['Arca'] });
    const leaf = (await root.write('pki_int/issue/web', { common_name: 'api.example.com', alt_names: 'www.example.com', ip_sans: '127.0.0.1', ttl: '1h' })).body['data'] as {
      certificate: string; ca_chain: string[]; private_key: string; private_key_type: string; issuing_ca: string;
    };
    assert.equal(leaf.private_key_type, 'ec');
    assert.match(leaf.private_key, /BEGIN EC PRIVATE KEY/);
    assert.equal(leaf.ca_chain.length, 2);

    const rootFile = await file('root.pem', rootPem.certificate);
    const interFile = await file('inter.pem', leaf.issuing_ca);
    const leafFile = await file('leaf.pem', leaf.certificate);
    const v = openssl(['verify', '-CAfile', rootFile, '-untrusted', interFile, '-purpose', 'sslserver', leafFile]);
    assert.equal(v.code, 0, v.out);
    // Without the intermediate the chain must not verify (the check can fail).
    assert.notEqual(openssl(['verify', '-CAfile', rootFile, leafFile]).code, 0);
    const text = execFileSync('openssl', ['x509', '-in', leafFile, '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /DNS:api\.example\.com/);
    assert.match(text, /DNS:www\.example\.com/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /O ?= ?Arca/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    // The key returned matches the certificate.
    const keyFile = await file('leaf.key', leaf.private_key);
    const pub1 = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout'], { encoding: 'utf8' });
    const pub2 = execFileSync('openssl', ['x509', '-in', leafFile, '-noout', '-pubkey'], { encoding: 'utf8' });
    assert.equal(pub1, pub2);
  });

  it('serves the CA as DER and PEM and the chain', async () => {
    const der = await fetch(`${srv.address}/v1/pki_int/ca`, { headers: { 'x-vault-token': ROOT } });
    assert.equal(der.headers.get('content-type'), 'application/pkix-cert');
    const derFile = join(dir.path, 'ca.der');
    await writeFile(derFile, Buffer.from(await der.arrayBuffer()));
    assert.match(execFileSync('openssl', ['x509', '-inform', 'DER', '-in', derFile, '-noout', '-subject'], { encoding: 'utf8' }), /Arca Test Intermediate/);
    const pem = await (await fetch(`${srv.address}/v1/pki_int/ca/pem`, { headers: { 'x-vault-token': ROOT } })).text();
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    const chain = await (await fetch(`${srv.address}/v1/pki_int/ca_chain`, { headers: { 'x-vault-token': ROOT } })).text();
    assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
  });

  it('refuses what the role does not allow, each with its code, and stores nothing', async () => {
    const before = ((await root.list('pki_int/certs')).body['data'] as { keys: string[] }).keys.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ common_name: 'evil.org' }, 'ERR_PKI_NAME_NOT_ALLOWED'],
      [{ common_name: 'a.example.com', alt_names: 'b.example.net' }, 'ERR_PKI_NAME_NOT_ALLOWED'],
      [{ common_name: 'a.example.com', ttl: '73h' }, 'ERR_PKI_TTL_EXCEEDS_MAX'],
      [{ common_name: 'a.example.com', uri_sans: 'spiffe://example.com/x' }, 'ERR_PKI_NAME_NOT_ALLOWED'],
    ];
    for (const [body, want] of cases) {
      const r = await root.request('POST', 'pki_int/issue/web', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(code(r), want, JSON.stringify(body));
      assert.equal(JSON.stringify(r.body).includes('evil.org'), false, 'the refused name is not echoed');
    }
    await root.write('pki_int/roles/noip', { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', allow_ip_sans: false });
    const ip = await root.request('POST', 'pki_int/issue/noip', { common_name: 'a.example.com', ip_sans: '10.0.0.1' });
    assert.equal(code(ip), 'ERR_PKI_NAME_NOT_ALLOWED');
    assert.equal(code(await root.request('POST', 'pki_int/issue/nope', { common_name: 'a.example.com' })), 'ERR_PKI_ROLE_UNKNOWN');
    // A CSR with an RSA key against an ec role.
    const key = join(dir.path, 'rsa.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=a.example.com'], { encoding: 'utf8' });
    const wrong = await root.request('POST', 'pki_int/sign/web', { csr });
    assert.equal(wrong.status, 400);
    assert.equal(code(wrong), 'ERR_PKI_KEY_TYPE');
    assert.equal(code(await root.request('POST', 'pki_int/roles/bad', { key_type: 'dsa' })), 'ERR_PKI_KEY_TYPE');
    assert.equal(code(await root.request('POST', 'pki_int/roles/bad', { key_type: 'ec', key_bits: 1024 })), 'ERR_PKI_KEY_TYPE');
    const after = ((await root.list('pki_int/certs')).body['data'] as { keys: string[] }).keys.length;
    assert.equal(after, before);
  });

  it('signs a CSR with the role constraints and the CSR names', async () => {
    const key = join(dir.path, 'ec.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=svc.example.com', '-addext', 'subjectAltName=DNS:svc2.example.com'], { encoding: 'utf8' });
    const r = (await root.write('pki_int/sign/web', { csr, ttl: '2h' })).body['data'] as { certificate: string; private_key?: string };
    assert.equal(r.private_key, undefined);
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: r.certificate, encoding: 'utf8' });
    assert.match(text, /DNS:svc\.example\.com/);
    assert.match(text, /DNS:svc2\.example\.com/);
    const bad = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=svc.other.org'], { encoding: 'utf8' });
    assert.equal(code(await root.request('POST', 'pki_int/sign/web', { csr: bad })), 'ERR_PKI_NAME_NOT_ALLOWED');
    assert.equal(code(await root.request('POST', 'pki_int/sign/web', { csr: 'not a csr' })), 'ERR_PKI_CSR_INVALID');
  });

  it('puts a revoked serial in the CRL that openssl crl parses, and drops nothing else in', async () => {
    const a = (await root.write('pki_int/issue/web', { common_name: 'rev.example.com', ttl: '1h' })).body['data'] as { serial_number: string };
    const b = (await root.write('pki_int/issue/web', { common_name: 'keep.example.com', ttl: '1h' })).body['data'] as { serial_number: string };
    const rv = await root.write('pki_int/revoke', { serial_number: a.serial_number });
    assert.equal(typeof (rv.body['data'] as { revocation_time: number }).revocation_time, 'number');
    const crlPem = await (await fetch(`${srv.address}/v1/pki_int/crl/pem`, { headers: { 'x-vault-token': ROOT } })).text();
    const crlFile = await file('crl.pem', crlPem);
    const out = execFileSync('openssl', ['crl', '-in', crlFile, '-noout', '-text'], { encoding: 'utf8' }).toUpperCase();
    const hex = (s: string) => s.replace(/:/g, '').toUpperCase();
    assert.ok(out.includes(hex(a.serial_number)), 'revoked serial listed');
    assert.ok(!out.includes(hex(b.serial_number)), 'unrevoked serial not listed');
    // The DER form parses too, and verifies against the issuing CA.
    const der = await fetch(`${srv.address}/v1/pki_int/crl`, { headers: { 'x-vault-token': ROOT } });
    assert.equal(der.headers.get('content-type'), 'application/pkix-crl');
    const derFile = join(dir.path, 'crl.der');
    await writeFile(derFile, Buffer.from(await der.arrayBuffer()));
    const caFile = await file('int-ca.pem', await (await fetch(`${srv.address}/v1/pki_int/ca/pem`, { headers: { 'x-vault-token': ROOT } })).text());
    const ver = openssl(['crl', '-inform', 'DER', '-in', derFile, '-CAfile', caFile, '-noout']);
    assert.match(ver.out, /verify OK/);
    const cert = (await root.read(`pki_int/cert/${a.serial_number}`)).body['data'] as { revocation_time: number };
    assert.ok(cert.revocation_time > 0);
    const revoked = ((await root.list('pki_int/certs/revoked')).body['data'] as { keys: string[] }).keys;
    assert.deepEqual(revoked, [a.serial_number]);
    assert.equal(code(await root.request('POST', 'pki_int/revoke', { serial_number: '01:02:03' })), 'ERR_PKI_CERT_UNKNOWN');
  });

  it('keeps no_store certificates out of the store', async () => {
    await root.write('pki_int/roles/ephemeral', { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', no_store: true });
    const r = (await root.write('pki_int/issue/ephemeral', { common_name: 'tmp.example.com', ttl: '10m' })).body['data'] as { serial_number: string };
    const keys = ((await root.list('pki_int/certs')).body['data'] as { keys: string[] }).keys;
    assert.equal(keys.includes(r.serial_number), false);
    assert.equal((await root.request('GET', `pki_int/cert/${r.serial_number}`)).status, 404);
    const stored = (await root.write('pki_int/issue/web', { common_name: 'kept.example.com', ttl: '10m' })).body['data'] as { serial_number: string };
    assert.ok(((await root.list('pki_int/certs')).body['data'] as { keys: string[] }).keys.includes(stored.serial_number));
  });

  it('requires sudo for sign-verbatim and refuses a second CA on the mount', async () => {
    await root.write('sys/policies/acl/pki-user', { policy: 'path "pki_int/*" { capabilities = ["create", "update", "read", "list"] }' });
    const tok = ((await root.write('auth/token/create', { policies: ['pki-user'], ttl: '1h' })).body['auth'] as { client_token: string }).client_token;
    const user = new ArcaClient({ addr: srv.address, token: tok });
    const key = join(dir.path, 'v.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=anything.org'], { encoding: 'utf8' });
    assert.equal((await user.request('POST', 'pki_int/sign-verbatim', { csr, ttl: '1h' })).status, 403);
    assert.equal((await user.request('POST', 'pki_int/issue/web', { common_name: 'u.example.com', ttl: '1h' })).status, 200);
    user.close();
    const ok = (await root.write('pki_int/sign-verbatim', { csr, ttl: '1h' })).body['data'] as { certificate: string };
    assert.match(execFileSync('openssl', ['x509', '-noout', '-subject'], { input: ok.certificate, encoding: 'utf8' }), /anything\.org/);
    assert.equal(code(await root.request('POST', 'pki/root/generate/internal', { common_name: 'again' })), 'ERR_PKI_CA_EXISTS');
  });
});
