/**
 * Issue 20 item 3: posture reports. `arca check --report` and `arca etcd scan --report` store
 * summaries, and `arca kms-plugin --report-interval` its key_id and health, under
 * posture/data/<cluster>/<source> (KV v2: GET = latest, metadata = history). A token
 * with the posture policy reads them, others are refused; no secret values or object names are
 * stored by default.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostname } from 'node:os';
import { connectEtcd } from '../../src/k8s/etcd/index.ts';
import { nodeSegment } from '../../src/k8s/report/index.ts';
import { startPlugin } from '../../src/kms-plugin/testing.ts';
import { ARCA_BIN, type ArcaProcess, startArca } from '../harness/arca.ts';
import { type EtcdHandle, startEtcd, tempDir, waitFor } from '../harness/index.ts';

const SECRET_VALUE = 'hunter2-posture-value';
const OBJECT_NAME = 'db-password-object';
const POD_NAME = 'leaky-pod-name';

function arca(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(ARCA_BIN, args, { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

describe('posture reports', () => {
  let srv: ArcaProcess;
  let etcd: EtcdHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const tokens: Record<string, string> = {};

  before(async () => {
    dir = await tempDir('arca-posture-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', 'root-T'] });
    etcd = await startEtcd();
    const root = srv.client('root-T');
    await root.write('sys/mounts/posture', { type: 'kv', options: { version: '2' } });
    await root.write('sys/policies/acl/posture-writer', { policy: 'path "posture/data/c1/*" { capabilities = ["create", "update"] }' });
    await root.write('sys/policies/acl/posture-reader', {
      policy: 'path "posture/data/c1/*" { capabilities = ["read"] }\npath "posture/metadata/c1/*" { capabilities = ["read"] }',
    });
    for (const p of ['posture-writer', 'posture-reader', 'default']) {
      tokens[p] = ((await root.write('auth/token/create', { policies: [p] })).body['auth'] as { client_token: string }).client_token;
    }
    root.close();
    const ec = await connectEtcd({ endpoints: [etcd.endpoint] });
    for (let i = 0; i < 4; i++) await ec.put(`/registry/secrets/prod/${OBJECT_NAME}-${i}`).value(Buffer.from(`k8s\0\n\x02v1\x12\x06Secret ${OBJECT_NAME}-${i} ${SECRET_VALUE}`));
    ec.close();
    await writeFile(join(dir.path, 'enc.yaml'), 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n');
    await writeFile(
      join(dir.path, 'objects.yaml'),
      `kind: Pod\nmetadata: {name: ${POD_NAME}, namespace: shop}\nspec: {serviceAccountName: api, containers: [{name: a, image: a}]}\n`,
    );
  });
  after(async () => {
    await etcd?.stop();
    await srv?.stop();
    await dir?.remove();
  });

  const server = () => ['--report', '--cluster', 'c1', '--addr', srv.addr, '--token', tokens['posture-writer']!];

  it('etcd scan --report and check --report store summaries; history is kept', async () => {
    const scanArgs = ['etcd', 'scan', '--endpoints', etcd.endpoint, '--encryption-config', join(dir.path, 'enc.yaml'), '--workers', '0', '-o', 'json', ...server()];
    for (let i = 0; i < 2; i++) {
      const r = await arca(scanArgs);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /report: posture\/data\/c1\/etcd-scan/);
    }
    const c = await arca(['check', 'control-plane', '--manifests', join(dir.path, 'none'), '--listeners', '/dev/null', '--objects', join(dir.path, 'objects.yaml'), '-o', 'json', ...server()]);
    assert.match(c.stderr, /report: posture\/data\/c1\/check/, c.stderr);
    assert.ok(c.stdout.includes(POD_NAME), 'the local output may name the pod (evidence)');

    const reader = srv.client(tokens['posture-reader']);
    const scan = (await reader.read('posture/data/c1/etcd-scan')).body['data'] as { data: { kind: string; byResource: Record<string, { plaintext: number }> } };
    assert.equal(scan.data.kind, 'etcd-scan');
    assert.equal(scan.data.byResource['secrets']?.plaintext, 4);
    const history = (await reader.read('posture/metadata/c1/etcd-scan')).body['data'] as { versions: Record<string, unknown> };
    assert.equal(Object.keys(history.versions).length, 2);
    const check = (await reader.read('posture/data/c1/check')).body['data'] as { data: { kind: string; findings: { id: string; status: string }[] } };
    assert.equal(check.data.kind, 'check');
    assert.equal(check.data.findings.find((f) => f.id === 'CPH-POD-01')?.status, 'fail');
    reader.close();
  });

  it('the KMS plugin reports its key_id and health every --report-interval', async () => {
    const root = srv.client('root-T');
    await root.write('transit/keys/k8s-kek', {});
    const keyId = ((await root.read('transit/keys/k8s-kek')).body['data'] as { version_ids: Record<string, string> }).version_ids['1'];
    root.close();
    await writeFile(join(dir.path, 'token'), 'root-T\n', { mode: 0o600 });
    const plugin = await startPlugin(join(dir.path, 'kms.sock'), [
      '--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'),
      '--report-interval', '300ms', '--cluster', 'c1',
    ]);
    try {
      const reader = srv.client(tokens['posture-reader']);
      const path = `posture/data/c1/kms-plugin.${nodeSegment(hostname())}`;
      const r = await waitFor('plugin report', async () => {
        const res = await reader.request('GET', path);
        const d = (res.body['data'] as { data?: { keyId?: string; healthz?: string } } | undefined)?.data;
        return res.status === 200 && d?.healthz === 'ok' ? d : undefined;
      }, 30_000, 100);
      reader.close();
      assert.equal(r.keyId, keyId);
    } finally {
      await plugin.stop();
    }
  });

  it('refuses reports to a token without the posture policy', async () => {
    const other = srv.client(tokens['default']);
    await assert.rejects(other.read('posture/data/c1/check'), (e: { code?: string }) => e.code === 'ERR_PERMISSION_DENIED');
    other.close();
  });

  it('stores no secret values or object names by default (grep of the stored reports)', async () => {
    const root = srv.client('root-T');
    const stored = JSON.stringify([(await root.read('posture/data/c1/etcd-scan')).body, (await root.read('posture/data/c1/check')).body]);
    root.close();
    for (const needle of [SECRET_VALUE, OBJECT_NAME, POD_NAME, '/registry/']) assert.ok(!stored.includes(needle), `stored report contains ${needle}`);
  });
});
