/**
 * `arca pki control-plane init|issue` through the real CLI against a real server, then a real etcd
 * running with server, peer and client TLS from the written files: the apiserver-etcd-client cert
 * reads and writes, a Kubernetes-CA cert is refused, and `arca etcd scan` works with those files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';
import { type EtcdTlsHandle, startEtcdTls } from '../harness/etcd-tls.ts';
import { execFileP } from '../harness/util.ts';

const ROOT = 'cp-root-token';

describe('control-plane PKI (real CLI, real etcd with kubeadm TLS)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  let etcd: EtcdTlsHandle | undefined;
  let pki: string;
  const arca = (args: string[]) => execFileP(ARCA_BIN, args, { env: { ...process.env, ARCA_ADDR: srv.address, ARCA_TOKEN: ROOT } });
  const x509Text = (f: string) => execFileSync('openssl', ['x509', '-in', join(pki, f), '-noout', '-text'], { encoding: 'utf8' });

  before(async () => {
    dir = await tempDir();
    pki = join(dir.path, 'etc-kubernetes-pki');
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true }), silentLogger(), dir.path);
    await devBootstrap(srv.core, ROOT);
    await arca(['pki', 'control-plane', 'init', '--ttl', '2h']);
    // A second init changes nothing that exists (idempotent).
    await arca(['pki', 'control-plane', 'init', '--ttl', '2h']);
    await arca(['pki', 'control-plane', 'issue', '--node', 'cp-1', '--dir', pki, '--advertise-address', '127.0.0.1']);
  });
  after(async () => {
    await etcd?.stop();
    await srv?.close();
    await dir?.remove();
  });

  it('writes the kubeadm layout with kubeadm modes', async () => {
    const certs = ['ca.crt', 'front-proxy-ca.crt', 'etcd/ca.crt', 'apiserver.crt', 'apiserver-kubelet-client.crt', 'front-proxy-client.crt',
      'etcd/server.crt', 'etcd/peer.crt', 'etcd/healthcheck-client.crt', 'apiserver-etcd-client.crt'];
    for (const f of certs) assert.equal((await stat(join(pki, f))).mode & 0o777, 0o644, f);
    for (const f of [...certs.filter((c) => !c.includes('ca.crt')).map((c) => c.replace(/\.crt$/, '.key')), 'sa.key', 'sa.pub']) {
      assert.equal((await stat(join(pki, f))).mode & 0o777, 0o600, f);
    }
    assert.equal((await stat(join(pki, 'etcd'))).mode & 0o777, 0o755);
    // No CA private key ever reaches the node.
    for (const f of ['ca.key', 'etcd/ca.key', 'front-proxy-ca.key']) await assert.rejects(stat(join(pki, f)));
  });

  it('gives every certificate the subject, usages and SANs of the reference table', () => {
    const api = x509Text('apiserver.crt');
    assert.match(api, /Subject: CN ?= ?kube-apiserver/);
    for (const n of ['DNS:cp-1', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:10.96.0.1', 'IP Address:127.0.0.1']) assert.ok(api.includes(n), n);
    assert.match(api, /Digital Signature, Key Encipherment/);
    assert.match(api, /Extended Key Usage: *\n *TLS Web Server Authentication\n/);
    assert.match(api, /Issuer: CN ?= ?kubernetes\n/);
    const kc = x509Text('apiserver-kubelet-client.crt');
    assert.match(kc, /Subject: O ?= ?kubeadm:cluster-admins, CN ?= ?kube-apiserver-kubelet-client/);
    assert.equal(kc.includes('Subject Alternative Name'), false);
    assert.match(kc, /TLS Web Client Authentication/);
    assert.equal(kc.includes('TLS Web Server Authentication'), false);
    const server = x509Text('etcd/server.crt');
    assert.match(server, /Subject: CN ?= ?cp-1/);
    assert.match(server, /Issuer: CN ?= ?etcd-ca/);
    assert.match(server, /TLS Web Server Authentication, TLS Web Client Authentication/);
    for (const n of ['DNS:cp-1', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) assert.ok(server.includes(n), n);
    assert.match(x509Text('apiserver-etcd-client.crt'), /Subject: CN ?= ?kube-apiserver-etcd-client/);
    assert.match(x509Text('etcd/healthcheck-client.crt'), /Subject: CN ?= ?kube-etcd-healthcheck-client/);
    assert.match(x509Text('front-proxy-client.crt'), /Issuer: CN ?= ?front-proxy-ca/);
    assert.match(x509Text('ca.crt'), /CA:TRUE/);
    // Chains verify with openssl against the right CA only.
    const verify = (ca: string, leaf: string) => {
      try {
        execFileSync('openssl', ['verify', '-CAfile', join(pki, ca), join(pki, leaf)], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(verify('etcd/ca.crt', 'apiserver-etcd-client.crt'));
    assert.ok(verify('ca.crt', 'apiserver.crt'));
    assert.ok(verify('front-proxy-ca.crt', 'front-proxy-client.crt'));
    assert.equal(verify('ca.crt', 'apiserver-etcd-client.crt'), false);
  });

  it('runs etcd with server, peer and client TLS: the etcd client cert reads and writes, a Kubernetes-CA cert is refused', async () => {
    etcd = await startEtcdTls(pki, 'cp-1');
    await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['put', '/registry/secrets/default/s1', 'plain-value']);
    const got = await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['get', '/registry/secrets/default/s1', '--print-value-only']);
    assert.equal(got.trim(), 'plain-value');
    await assert.rejects(etcd.ctl('apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', ['get', '/registry/secrets/default/s1']));
  });

  it('lets `arca etcd scan` read that etcd with the written files', async () => {
    assert.ok(etcd, 'etcd started by the previous test');
    const enc = join(dir.path, 'enc.yaml');
    await writeFile(enc, 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - identity: {}\n');
    const r = await arca(['etcd', 'scan', '--endpoints', etcd.endpoint, '--cacert', join(pki, 'etcd/ca.crt'), '--cert', join(pki, 'apiserver-etcd-client.crt'),
      '--key', join(pki, 'apiserver-etcd-client.key'), '--encryption-config', enc, '--workers', '0', '-o', 'json']);
    assert.match(r.stdout, /plaintext/);
  });
});
