/**
 * Issue 20: `arca check --live` against real etcd, with TLS (client certs required) and without.
 * Plaintext Secrets are a failure reported with counts — never values or object names.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEtcd } from '../../src/k8s/etcd/index.ts';
import { type EtcdHandle, startEtcd } from '../harness/index.ts';

const BIN = join(import.meta.dirname, '../../bin/arca');
const SECRET_VALUE = 'hunter2-do-not-print';
const SECRET_NAME = 'db-password-object';

interface Finding {
  id: string;
  status: string;
  severity: string;
  evidence: string;
}

function arca(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

/** a "k8s\0" protobuf-framed Secret as kube-apiserver stores it under the identity provider */
const plaintextSecret = (name: string) => Buffer.concat([Buffer.from('k8s\0'), Buffer.from(`\n\x0c\n\x02v1\x12\x06Secret\x12 ${name} ${SECRET_VALUE}`)]);

async function seed(e: EtcdHandle): Promise<void> {
  const c = await connectEtcd({ endpoints: [e.endpoint], ...(e.pki ? { cacert: e.pki.ca, cert: e.pki.cert, key: e.pki.key } : {}) });
  try {
    for (let i = 0; i < 3; i++) await c.put(`/registry/secrets/prod/${SECRET_NAME}-${i}`).value(plaintextSecret(`${SECRET_NAME}-${i}`));
    await c.put('/registry/configmaps/prod/settings').value(Buffer.from('k8s\0plain configmap'));
  } finally {
    c.close();
  }
}

const liveArgs = (e: EtcdHandle) => [
  'check', 'control-plane', '--manifests', '/nonexistent-manifests', '--listeners', '/dev/null', '--live', '--endpoints', e.endpoint,
  ...(e.pki ? ['--cacert', e.pki.ca, '--cert', e.pki.cert, '--key', e.pki.key] : []),
  '--only', 'CPH-ENC-07,CPH-ETCD-02,CPH-ETCD-08', '-o', 'json',
];

describe('arca check --live, etcd with client-certificate TLS', () => {
  let etcd: EtcdHandle;
  before(async () => {
    etcd = await startEtcd({ tls: true });
    await seed(etcd);
  });
  after(async () => etcd?.stop());

  it('reports plaintext Secrets as a high failure with counts, never values or object names', async () => {
    const r = await arca(liveArgs(etcd));
    assert.equal(r.code, 5, r.stderr);
    assert.ok(!r.stdout.includes(SECRET_VALUE) && !r.stderr.includes(SECRET_VALUE), 'a secret value was printed');
    assert.ok(!r.stdout.includes(SECRET_NAME) && !r.stderr.includes(SECRET_NAME), 'an object name was printed');
    const f = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.find((x) => x.id === 'CPH-ENC-07');
    assert.equal(f?.status, 'fail');
    assert.equal(f?.severity, 'high');
    assert.match(f!.evidence, /secrets: 3 plaintext/);
    assert.match(f!.evidence, /configmaps: 1 plaintext/);
  });

  it('passes CPH-ETCD-02 live: etcd refuses a client without a certificate', async () => {
    const r = await arca(liveArgs(etcd));
    const f = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'CPH-ETCD-02');
    const live = f.find((x) => x.evidence.startsWith('live:'));
    assert.equal(live?.status, 'pass', JSON.stringify(f));
    assert.match(live!.evidence, /refused a client without a certificate/);
  });
});

describe('arca check --live, etcd without TLS', () => {
  let etcd: EtcdHandle;
  before(async () => {
    etcd = await startEtcd();
    await seed(etcd);
  });
  after(async () => etcd?.stop());

  it('fails CPH-ETCD-08 critical: etcd answers plaintext without any credential', async () => {
    const r = await arca(liveArgs(etcd));
    assert.equal(r.code, 6, r.stderr);
    const f = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.find((x) => x.id === 'CPH-ETCD-08' && x.evidence.startsWith('live:'));
    assert.equal(f?.status, 'fail');
    assert.equal(f?.severity, 'critical');
    assert.ok(!r.stdout.includes(SECRET_VALUE));
  });
});
