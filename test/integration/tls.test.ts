/**
 * Issue 2: TLS from config; plaintext HTTP is refused on anything but loopback.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ArcaClient } from '../../src/client/index.ts';
import { ARCA_BIN, startArca } from '../harness/arca.ts';
import { execFileP, tempDir } from '../harness/index.ts';

describe('TLS listener', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
    const d = dir.path;
    await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/ca.key`, '-out', `${d}/ca.crt`, '-days', '2', '-subj', '/CN=arca-test-ca']);
    await execFileP('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/tls.key`, '-out', `${d}/tls.csr`, '-subj', '/CN=arca']);
    await writeFile(`${d}/ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    await execFileP('openssl', ['x509', '-req', '-in', `${d}/tls.csr`, '-CA', `${d}/ca.crt`, '-CAkey', `${d}/ca.key`, '-CAcreateserial', '-days', '2', '-out', `${d}/tls.crt`, '-extfile', `${d}/ext`]);
  });
  after(async () => dir?.remove());

  it('serves HTTPS with the configured certificate; clients verify it with ARCA_CACERT', async () => {
    const srv = await startArca({
      config: { dataDir: `${dir.path}/data`, tls: { certFile: `${dir.path}/tls.crt`, keyFile: `${dir.path}/tls.key` } },
      configDir: dir.path,
      wait: false,
    });
    try {
      const https = new ArcaClient({ addr: `https://127.0.0.1:${srv.port}`, caCert: `${dir.path}/ca.crt`, timeoutMs: 2000 });
      let st: Record<string, unknown> = {};
      for (let i = 0; i < 100; i++) {
        const r = await https.request('GET', 'sys/seal-status').catch(() => undefined);
        if (r?.status === 200) {
          st = r.body;
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(st['initialized'], false);
      const untrusted = new ArcaClient({ addr: `https://127.0.0.1:${srv.port}`, timeoutMs: 2000 });
      await assert.rejects(untrusted.request('GET', 'sys/seal-status'), { code: 'ERR_SERVER_UNREACHABLE' });
      const plain = new ArcaClient({ addr: `http://127.0.0.1:${srv.port}`, timeoutMs: 2000 });
      const r = await plain.request('GET', 'sys/seal-status').catch((e: Error) => e);
      assert.ok(r instanceof Error || r.status >= 400, 'plaintext HTTP is not served on the TLS port');
      https.close();
      untrusted.close();
      plain.close();
    } finally {
      await srv.stop();
    }
  });

  it('refuses plaintext HTTP on a non-loopback address', async () => {
    const err = await promisify(execFile)(ARCA_BIN, ['server', '--listen', '0.0.0.0:18999', '--data-dir', `${dir.path}/d2`]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok(err);
    assert.equal(err.code, 2);
    assert.match(err.stderr, /ERR_CONFIG_INVALID/);
    assert.match(err.stderr, /loopback/);
  });
});
