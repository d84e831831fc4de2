/**
 * A real etcd (Debian etcd-server) on 127.0.0.1 in a temp dir, optionally with client-certificate TLS
 * (a throwaway EC P-256 PKI made with openssl).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execFileP, freePort, stopChild, tempDir, waitFor } from './util.ts';

export interface EtcdPki {
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdHandle {
  endpoint: string;
  /** Client credentials when started with TLS. */
  pki?: EtcdPki;
  dataDir: string;
  stop(): Promise<void>;
}

async function makePki(dir: string): Promise<EtcdPki & { serverCert: string; serverKey: string }> {
  const o = (args: string[]) => execFileP('openssl', args);
  const ca = `${dir}/ca`;
  await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`,
    '-out', `${ca}.crt`, '-days', '2', '-subj', '/CN=arca-test-ca']);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    await o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/${name}.key`,
      '-out', `${dir}/${name}.csr`, '-subj', `/CN=${name}`]);
    await writeFile(`${dir}/${name}.ext`, ext);
    await o(['x509', '-req', '-in', `${dir}/${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-days', '2', '-out', `${dir}/${name}.crt`, '-extfile', `${dir}/${name}.ext`]);
  }
  return {
    ca: `${ca}.crt`, cert: `${dir}/client.crt`, key: `${dir}/client.key`,
    serverCert: `${dir}/server.crt`, serverKey: `${dir}/server.key`,
  };
}

export async function startEtcd(opts: { tls?: boolean } = {}): Promise<EtcdHandle> {
  if (!existsSync('/usr/bin/etcd')) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const dir = await tempDir('arca-etcd-');
  const [port, peer] = [await freePort(), await freePort()];
  const scheme = opts.tls ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${port}`;
  const pki = opts.tls ? await makePki(dir.path) : undefined;
  const args = [
    '--name', 'test', '--data-dir', `${dir.path}/data`,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `test=http://127.0.0.1:${peer}`,
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
  ];
  if (pki) args.push('--client-cert-auth', '--trusted-ca-file', pki.ca, '--cert-file', pki.serverCert, '--key-file', pki.serverKey);
  const child: ChildProcess = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const ctl = ['--endpoints', endpoint, ...(pki ? ['--cacert', pki.ca, '--cert', pki.cert, '--key', pki.key] : [])];
  try {
    await waitFor('etcd health', async () => {
      if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
      await execFileP('etcdctl', [...ctl, 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } });
      return true;
    }, 20_000, 100);
  } catch (err) {
    await stopChild(child);
    await dir.remove();
    throw err;
  }
  const handle: EtcdHandle = {
    endpoint,
    dataDir: `${dir.path}/data`,
    async stop() {
      await stopChild(child);
      await dir.remove();
    },
  };
  if (pki) handle.pki = { ca: pki.ca, cert: pki.cert, key: pki.key };
  return handle;
}
