/**
 * A real etcd (Debian etcd-server) on 127.0.0.1 running with the kubeadm TLS layout of a pki
 * directory: server, peer and client TLS with client-certificate auth on both ports, exactly the
 * flags of kubeadm's etcd static pod (docs/reference/control-plane-pki.md §2.1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileP, freePort, stopChild, tempDir, waitFor } from './util.ts';

export interface EtcdTlsHandle {
  endpoint: string;
  /** etcdctl with the given client cert/key (relative to the pki dir); resolves with stdout. */
  ctl(cert: string, key: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startEtcdTls(pkiDir: string, name: string): Promise<EtcdTlsHandle> {
  if (!existsSync('/usr/bin/etcd')) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const dir = await tempDir('arca-etcd-tls-');
  const [port, peer] = [await freePort(), await freePort()];
  const endpoint = `https://127.0.0.1:${port}`;
  const peerUrl = `https://127.0.0.1:${peer}`;
  const p = (f: string) => join(pkiDir, f);
  const args = [
    '--name', name, '--data-dir', `${dir.path}/data`,
    '--cert-file', p('etcd/server.crt'), '--key-file', p('etcd/server.key'),
    '--trusted-ca-file', p('etcd/ca.crt'), '--client-cert-auth=true',
    '--peer-cert-file', p('etcd/peer.crt'), '--peer-key-file', p('etcd/peer.key'),
    '--peer-trusted-ca-file', p('etcd/ca.crt'), '--peer-client-cert-auth=true',
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
  ];
  const child: ChildProcess = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const ctl = async (cert: string, key: string, a: string[]) => {
    const r = await execFileP('etcdctl', ['--endpoints', endpoint, '--cacert', p('etcd/ca.crt'), '--cert', p(cert), '--key', p(key), '--dial-timeout', '5s', '--command-timeout', '10s', ...a], { env: { ...process.env, ETCDCTL_API: '3' } });
    return r.stdout;
  };
  try {
    await waitFor('etcd (tls) health', async () => {
      if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
      await ctl('etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key', ['endpoint', 'health']);
      return true;
    }, 30_000, 200);
  } catch (err) {
    await stopChild(child);
    await dir.remove();
    throw err;
  }
  return {
    endpoint,
    ctl,
    async stop() {
      await stopChild(child);
      await dir.remove();
    },
  };
}
