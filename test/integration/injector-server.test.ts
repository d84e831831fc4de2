/**
 * `arca injector` as a process with real TLS (certificates from `arca injector certs`): POST
 * /mutate with the query string the API server appends, 400/415 for bad requests, health, ready and
 * metrics, a certificate rotated on disk taken into service without a restart, and SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARCA_BIN, REPO_ROOT } from '../harness/arca.ts';
import { freePort, stopChild, tempDir, waitFor } from '../harness/index.ts';
import { runArca } from '../../src/cli/testing.ts';
import { createCerts } from '../../src/k8s/injector/index.ts';

interface Reply {
  status: number;
  body: string;
  json: Record<string, unknown> & { response?: Record<string, unknown>; error?: { code: string } };
}

function call(port: number, ca: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, ca, servername: 'arca-injector.arca-system.svc', agent: false, headers: body ? { 'content-type': contentType } : {} },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const fixture = (n: string) => readFileSync(join(REPO_ROOT, 'src/k8s/injector/testdata', n), 'utf8');

describe('arca injector over real TLS', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let child: ChildProcess;
  let port: number;
  let ca: string;
  let stderr = '';

  before(async () => {
    dir = await tempDir();
    const r = await runArca(process.env, ['injector', 'certs', '--out-dir', dir.path, '--days', '2']);
    assert.equal(r.code, 0, r.stderr);
    ca = readFileSync(join(dir.path, 'ca.crt'), 'utf8');
    assert.equal(Buffer.from(r.out.trim(), 'base64').toString('utf8'), ca, 'stdout is the caBundle: base64 of the CA PEM');
    port = await freePort();
    child = spawn(ARCA_BIN, ['injector', '--listen', `127.0.0.1:${port}`, '--tls-cert', join(dir.path, 'tls.crt'), '--tls-key', join(dir.path, 'tls.key'),
      '--arca-addr', 'https://arca.arca-system.svc:8200', '--agent-image', 'registry.example.dev/arca:0.1.0', '--shutdown-delay', '0s'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += d));
    await waitFor('injector ready', async () => ((await call(port, ca, 'GET', '/readyz')).status === 200 ? true : undefined), 30_000);
  });
  after(async () => {
    if (child) await stopChild(child);
    await dir?.remove();
  });

  it('answers a review on /mutate?timeout=10s with the uid, JSONPatch and a base64 patch', async () => {
    const review = JSON.parse(fixture('minimal.json'));
    const r = await call(port, ca, 'POST', '/mutate?timeout=10s', JSON.stringify(review));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json['apiVersion'], 'admission.k8s.io/v1');
    assert.equal(r.json.response?.['uid'], review.request.uid);
    assert.equal(r.json.response?.['patchType'], 'JSONPatch');
    const ops = JSON.parse(Buffer.from(String(r.json.response?.['patch']), 'base64').toString('utf8'));
    assert.ok(ops.some((o: { path: string }) => o.path === '/spec/initContainers'));
  });

  it('refuses a malformed review with 400 and a reason, and a non-JSON content type with 415', async () => {
    const bad = await call(port, ca, 'POST', '/mutate', fixture('not-json.txt'));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error?.code, 'ERR_INJECTOR_REVIEW_MALFORMED');
    const wrongType = await call(port, ca, 'POST', '/mutate', fixture('minimal.json'), 'text/plain');
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.json.error?.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await call(port, ca, 'GET', '/mutate')).status, 405);
    // Still serving after the bad requests.
    assert.equal((await call(port, ca, 'GET', '/healthz')).status, 200);
  });

  it('counts reviews by outcome on /metrics', async () => {
    await call(port, ca, 'POST', '/mutate', fixture('env-no-command.json'));
    const m = await call(port, ca, 'GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /arca_injector_reviews_total\{outcome="injected",code=""\} [1-9]/);
    assert.match(m.body, /arca_injector_reviews_total\{outcome="malformed",code="ERR_INJECTOR_REVIEW_MALFORMED"\} [1-9]/);
    assert.match(m.body, /arca_injector_reviews_total\{outcome="denied",code="ERR_INJECTOR_POD_UNSUPPORTED"\} [1-9]/);
    assert.match(m.body, /arca_injector_tls_cert_not_after_seconds \d+/);
    assert.ok(!m.body.includes('secret/app/db'), 'metrics never carry annotation values');
  });

  it('takes a rotated certificate into service without a restart', async () => {
    const next = await createCerts({ service: 'arca-injector', namespace: 'arca-system', days: 3 });
    assert.notEqual(next.caPem, ca);
    // Replace each file atomically, key first (as a Secret volume update would swap both at once).
    for (const [name, pem] of [['tls.key', next.keyPem], ['tls.crt', next.certPem]] as const) {
      await writeFile(join(dir.path, `${name}.new`), pem, { mode: 0o600 });
      await rename(join(dir.path, `${name}.new`), join(dir.path, name));
    }
    await waitFor('the new certificate in service', async () => ((await call(port, next.caPem, 'GET', '/healthz')).status === 200 ? true : undefined), 30_000, 200);
    await assert.rejects(call(port, ca, 'GET', '/healthz'), 'the old CA no longer verifies the server');
    const m = await call(port, next.caPem, 'GET', '/metrics');
    assert.match(m.body, /arca_injector_tls_reloads_total\{result="ok"\} [2-9]/);
    ca = next.caPem;
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});
