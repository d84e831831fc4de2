import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../log/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import type { EngineResponse, Operation } from '../types.ts';
import { createPkiEngine } from './index.ts';
import { x509 } from './x509-lib.ts';

function setup() {
  let t = Date.now();
  const storage = new InmemStorage();
  const engine = createPkiEngine({ storage, log: silentLogger(), now: () => t, isActive: () => true });
  const call = (op: Operation, path: string, data: Record<string, unknown> = {}) =>
    engine.handle({ id: 'r', operation: op, path, mountPoint: 'pki/', data, auth: undefined, clientAddr: '127.0.0.1', can: () => true });
  return { engine, storage, call, advance: (ms: number) => (t += ms) };
}

async function crlSerials(call: (op: Operation, p: string) => Promise<EngineResponse | undefined>): Promise<string[]> {
  const r = await call('read', 'crl');
  const crl = new x509.X509Crl(r!.raw!.body as Uint8Array);
  return crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^(00)+/, ''));
}

describe('pki CRL', () => {
  it('drops a revoked certificate from the CRL once it has expired (bounded CRL)', async () => {
    const { call, advance, storage } = setup();
    await call('update', 'root/generate/internal', { common_name: 'ca', key_type: 'ec' });
    await call('update', 'roles/r', { allow_any_name: true, key_type: 'ec', max_ttl: '10h' });
    const short = (await call('update', 'issue/r', { common_name: 'short', ttl: '1h' }))!.data as { serial_number: string };
    const long = (await call('update', 'issue/r', { common_name: 'long', ttl: '5h' }))!.data as { serial_number: string };
    await call('update', 'revoke', { serial_number: short.serial_number });
    await call('update', 'revoke', { serial_number: long.serial_number });
    const hex = (s: string) => s.replace(/:/g, '');
    assert.deepEqual((await crlSerials(call)).sort(), [hex(short.serial_number), hex(long.serial_number)].sort());
    advance(2 * 3600_000);
    await call('read', 'crl/rotate');
    assert.deepEqual(await crlSerials(call), [hex(long.serial_number)]);
    assert.deepEqual(await storage.list('revoked/'), [long.serial_number.replace(/:/g, '-')]);
  });

  it('scheduled tidy removes expired certificates past the safety buffer', async () => {
    const { engine, call, advance, storage } = setup();
    await call('update', 'root/generate/internal', { common_name: 'ca', key_type: 'ec' });
    await call('update', 'roles/r', { allow_any_name: true, key_type: 'ec' });
    await call('update', 'issue/r', { common_name: 'x', ttl: '1h' });
    assert.equal((await storage.list('certs/')).length, 1);
    await engine.tick!();
    assert.equal((await storage.list('certs/')).length, 1, 'not expired yet');
    advance(80 * 3600_000);
    await engine.tick!();
    assert.equal((await storage.list('certs/')).length, 0);
  });
});

describe('pki roles', () => {
  it('name the Vault role fields this subset ignores (country would be missing from issued certificates)', async () => {
    const { call } = setup();
    const r = await call('update', 'roles/web', { allow_any_name: true, key_type: 'ec', organization: 'Example', country: 'DE', code_signing_flag: true });
    assert.deepEqual(r?.warnings, ['Endpoint ignored these unrecognized parameters: [code_signing_flag country]']);
    assert.deepEqual((r!.data as Record<string, unknown>)['organization'], ['Example'], 'a field the subset takes is kept');
    assert.equal((r!.data as Record<string, unknown>)['country'], undefined);
    const clean = await call('update', 'roles/web', { allow_any_name: true, key_type: 'ec' });
    assert.equal(clean?.warnings, undefined);
  });

  it('names the issue fields this subset does not apply (other_sans, not_after), and still issues', async () => {
    const { call } = setup();
    await call('update', 'root/generate/internal', { common_name: 'root', key_type: 'ec' });
    await call('update', 'roles/web', { allow_any_name: true, key_type: 'ec' });
    const r = await call('update', 'issue/web', { common_name: 'a.example', not_after: '2030-01-01T00:00:00Z', other_sans: '1.3.6.1.4.1.311.20.2.3;UTF8:s3cr3t@example' });
    assert.ok((r!.data as { certificate?: string }).certificate);
    assert.deepEqual(r?.warnings, ['Endpoint ignored these unrecognized parameters: [not_after other_sans]']);
    assert.equal(JSON.stringify(r?.warnings).includes('s3cr3t'), false, 'names only');
    assert.equal((await call('update', 'issue/web', { common_name: 'b.example', ttl: '1h' }))?.warnings, undefined);
  });

  it('names the fields the CA paths do not take (root, intermediate, sign-intermediate, set-signed, urls, revoke, tidy)', async () => {
    const ignored = (names: string) => [`Endpoint ignored these unrecognized parameters: [${names}]`];
    const root = setup();
    await root.call('update', 'config/urls', { issuing_certificates: 'http://127.0.0.1/ca' });
    const r = await root.call('update', 'root/generate/internal', { common_name: 'root', key_type: 'ec', issuer_name: 'main', permitted_dns_domains: 'example.com' });
    assert.deepEqual(r?.warnings, ignored('issuer_name permitted_dns_domains'));
    assert.deepEqual((await root.call('update', 'config/urls', { ocsp_server: 'http://x' }))?.warnings, ignored('ocsp_server'), 'Vault names it ocsp_servers');
    const sub = setup();
    const csr = ((await sub.call('update', 'intermediate/generate/internal', { common_name: 'sub', key_type: 'ec', key_name: 'k' }))!);
    assert.deepEqual(csr.warnings, ignored('key_name'));
    const signed = await root.call('update', 'root/sign-intermediate', { csr: (csr.data as { csr: string }).csr, common_name: 'sub', use_pss: true });
    assert.deepEqual(signed?.warnings, ignored('use_pss'));
    const cert = (signed!.data as { certificate: string }).certificate;
    assert.deepEqual((await sub.call('update', 'intermediate/set-signed', { certificate: cert, issuer_ref: 'x' }))?.warnings, ignored('issuer_ref'));
    await root.call('update', 'roles/r', { allow_any_name: true, key_type: 'ec' });
    const leaf = (await root.call('update', 'issue/r', { common_name: 'leaf', ttl: '1h' }))!.data as { serial_number: string };
    assert.deepEqual((await root.call('update', 'revoke', { serial_number: leaf.serial_number, reason: 'keyCompromise' }))?.warnings, ignored('reason'));
    const tidy = await root.call('update', 'tidy', { tidy_cert_store: true, tidy_expired_issuers: true });
    assert.equal(tidy?.status, 202);
    assert.deepEqual(tidy?.warnings?.slice(1), ignored('tidy_expired_issuers'));
  });
});
