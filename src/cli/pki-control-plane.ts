/**
 * The kubeadm control-plane PKI on Arca (docs/reference/control-plane-pki.md §1–§2.2): three CAs
 * as pki mounts (Kubernetes, etcd, front-proxy) with one role per leaf profile, the
 * service-account key pair in a KV mount, and the file layout kubeadm writes under
 * /etc/kubernetes/pki. CA keys stay in Arca; only leaf keys and public CA certificates reach a node.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArcaClient } from '../client/index.ts';
import { isArcaError } from '../errors/index.ts';

export interface Mounts {
  kubernetes: string;
  etcd: string;
  frontProxy: string;
  sa: string;
}

export function mountNames(prefix: string): Mounts {
  return { kubernetes: `${prefix}kubernetes`, etcd: `${prefix}etcd`, frontProxy: `${prefix}front-proxy`, sa: `${prefix}sa` };
}

type CaName = 'kubernetes' | 'etcd' | 'frontProxy';

/** kubeadm's CA subjects (certlist.go: `kubernetes`, `etcd-ca`, `front-proxy-ca`; not the website's names). */
const CAS: Record<CaName, { cn: string; file: string }> = {
  kubernetes: { cn: 'kubernetes', file: 'ca.crt' },
  etcd: { cn: 'etcd-ca', file: 'etcd/ca.crt' },
  frontProxy: { cn: 'front-proxy-ca', file: 'front-proxy-ca.crt' },
};

export interface NodeParams {
  node: string;
  advertiseAddress: string;
  serviceIp: string;
  dnsDomain: string;
  /** Extra apiserver SANs (names and IPs mixed, kubeadm's apiServer.certSANs). */
  certSans: string[];
}

interface Profile {
  /** Role name on the mount, and the file stem under the pki dir. */
  role: string;
  file: string;
  ca: CaName;
  cn: (p: NodeParams) => string;
  org?: string;
  server: boolean;
  client: boolean;
  dns: (p: NodeParams) => string[];
  ips: (p: NodeParams) => string[];
}

const isIp = (s: string) => /^[0-9.]+$/.test(s) || s.includes(':');
const none = () => [];

/** Reference §2 rows 1–7: CN, O, EKU and SANs of every leaf kubeadm writes into the pki dir. */
export const PROFILES: readonly Profile[] = [
  {
    role: 'apiserver', file: 'apiserver', ca: 'kubernetes', cn: () => 'kube-apiserver', server: true, client: false,
    dns: (p) => [p.node, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${p.dnsDomain}`, ...p.certSans.filter((s) => !isIp(s))],
    ips: (p) => [p.serviceIp, p.advertiseAddress, ...p.certSans.filter(isIp)],
  },
  { role: 'apiserver-kubelet-client', file: 'apiserver-kubelet-client', ca: 'kubernetes', cn: () => 'kube-apiserver-kubelet-client', org: 'kubeadm:cluster-admins', server: false, client: true, dns: none, ips: none },
  { role: 'front-proxy-client', file: 'front-proxy-client', ca: 'frontProxy', cn: () => 'front-proxy-client', server: false, client: true, dns: none, ips: none },
  // etcd 3.2 needs clientAuth on its server certificate too (kubeadm comment, etcd-io/etcd#9785).
  { role: 'etcd-server', file: 'etcd/server', ca: 'etcd', cn: (p) => p.node, server: true, client: true, dns: (p) => [p.node, 'localhost'], ips: (p) => [p.advertiseAddress, '127.0.0.1', '::1'] },
  { role: 'etcd-peer', file: 'etcd/peer', ca: 'etcd', cn: (p) => p.node, server: true, client: true, dns: (p) => [p.node, 'localhost'], ips: (p) => [p.advertiseAddress, '127.0.0.1', '::1'] },
  { role: 'etcd-healthcheck-client', file: 'etcd/healthcheck-client', ca: 'etcd', cn: () => 'kube-etcd-healthcheck-client', server: false, client: true, dns: none, ips: none },
  { role: 'apiserver-etcd-client', file: 'apiserver-etcd-client', ca: 'etcd', cn: () => 'kube-apiserver-etcd-client', server: false, client: true, dns: none, ips: none },
];

export interface InitOptions {
  keyType: 'ec' | 'rsa';
  caTtl: string;
  leafTtl: string;
  leafMaxTtl: string;
}

/** Creates what is missing (mounts, CAs, SA key pair) and (re)writes the roles; safe to run twice. */
export async function initControlPlane(c: ArcaClient, m: Mounts, o: InitOptions): Promise<string[]> {
  const done: string[] = [];
  const mounts = (await c.read('sys/mounts')).body['data'] as Record<string, unknown> | undefined;
  const have = new Set(Object.keys(mounts ?? {}));
  for (const ca of Object.keys(CAS) as CaName[]) {
    const path = m[ca];
    if (!have.has(`${path}/`)) {
      await c.write(`sys/mounts/${path}`, { type: 'pki', description: `control-plane ${CAS[ca].cn} CA` });
      done.push(`mounted ${path}/`);
    }
    // kubeadm's CA carries a DNS SAN equal to its CN (pkiutil NewSelfSignedCACert).
    const made = await c
      .call('POST', `${path}/root/generate/internal`, { common_name: CAS[ca].cn, key_type: o.keyType, ttl: o.caTtl, alt_names: CAS[ca].cn })
      .then(() => true)
      .catch((err: unknown) => {
        if (isArcaError(err, 'ERR_PKI_CA_EXISTS')) return false;
        throw err;
      });
    if (made) done.push(`generated CA ${CAS[ca].cn} in ${path}/`);
  }
  for (const p of PROFILES) {
    // Client profiles have a fixed CN and may carry exactly that one; serving profiles name the node.
    const cn = p.server ? undefined : p.cn({ node: '', advertiseAddress: '', serviceIp: '', dnsDomain: '', certSans: [] });
    await c.write(`${m[p.ca]}/roles/${p.role}`, {
      ...(cn ? { allowed_domains: [cn], allow_bare_domains: true } : { allow_any_name: true }),
      enforce_hostnames: false,
      allow_localhost: true,
      server_flag: p.server,
      client_flag: p.client,
      key_type: o.keyType,
      key_bits: 0,
      key_usage: ['DigitalSignature', 'KeyEncipherment'],
      organization: p.org ? [p.org] : [],
      ttl: o.leafTtl,
      max_ttl: o.leafMaxTtl,
      not_before_duration: '5m',
    });
  }
  done.push(`wrote ${PROFILES.length} roles`);
  if (!have.has(`${m.sa}/`)) {
    await c.write(`sys/mounts/${m.sa}`, { type: 'kv', options: { version: '2' }, description: 'control-plane service-account key pair' });
    done.push(`mounted ${m.sa}/`);
  }
  const sa = await c.request('GET', `${m.sa}/data/sa`);
  if (sa.status === 404) {
    // kubeadm's SA key is RSA (service-account JWTs are RS256 by default).
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await c.write(`${m.sa}/data/sa`, {
      options: { cas: 0 },
      data: { key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), pub: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    });
    done.push('generated the service-account key pair');
  }
  return done;
}

/** Writes like kubeadm's helpers: dirs 0755, certificates 0644, keys 0600; atomic (temp + rename). */
async function writeAtomic(dir: string, rel: string, text: string, mode: number): Promise<void> {
  const path = join(dir, rel);
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text.endsWith('\n') ? text : `${text}\n`, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export interface IssueResult {
  file: string;
  serial: string;
  /** Unix seconds. */
  expiration: number;
}

export async function issueNode(c: ArcaClient, m: Mounts, p: NodeParams, dir: string, ttl: string | undefined): Promise<IssueResult[]> {
  const out: IssueResult[] = [];
  for (const ca of Object.keys(CAS) as CaName[]) {
    const pem = (await c.read(`${m[ca]}/cert/ca`)).body['data'] as { certificate: string };
    await writeAtomic(dir, CAS[ca].file, pem.certificate, 0o644);
  }
  for (const prof of PROFILES) {
    const body: Record<string, unknown> = {
      common_name: prof.cn(p),
      alt_names: [...new Set(prof.dns(p))].join(','),
      ip_sans: [...new Set(prof.ips(p))].join(','),
      // kubeadm's client certificates carry no SANs at all.
      exclude_cn_from_sans: prof.dns(p).length === 0,
      private_key_format: 'pkcs8',
      ...(ttl ? { ttl } : {}),
    };
    const d = (await c.write(`${m[prof.ca]}/issue/${prof.role}`, body)).body['data'] as { certificate: string; private_key: string; serial_number: string; expiration: number };
    // Key first: a reader that sees the new certificate must find its key.
    await writeAtomic(dir, `${prof.file}.key`, d.private_key, 0o600);
    await writeAtomic(dir, `${prof.file}.crt`, d.certificate, 0o644);
    out.push({ file: `${prof.file}.crt`, serial: d.serial_number, expiration: d.expiration });
  }
  const sa = await c.read(`${m.sa}/data/sa`).catch((err: unknown) => {
    if (isArcaError(err, 'ERR_NOT_FOUND')) return undefined;
    throw err;
  });
  const kv = (sa?.body['data'] as { data?: { key?: string; pub?: string } } | undefined)?.data;
  if (kv?.key && kv.pub) {
    await writeAtomic(dir, 'sa.key', kv.key, 0o600);
    await writeAtomic(dir, 'sa.pub', kv.pub, 0o600);
  }
  return out;
}
