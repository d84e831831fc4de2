/**
 * `arca injector certs`: a private CA and a serving certificate for the webhook Service, plus the
 * `caBundle` for the MutatingWebhookConfiguration — until the PKI engine issues these.
 *
 * Node can verify certificates (X509Certificate) but not create them, and the project has no X.509
 * library yet, so the `openssl` command (1.1.1 or 3.x) creates them; the result is checked here with
 * node:crypto before anything is written. EC P-256 keys; the serving certificate carries DNS SANs
 * for `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc` (what the API server verifies; a CN alone is refused
 * since Kubernetes 1.19) and `<svc>.<ns>.svc.cluster.local`. The CA key is discarded: rotating means
 * running the command again and updating the caBundle with the new CA.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ArcaError } from '../../errors/index.ts';

const run = promisify(execFile);

export interface CertRequest {
  service: string;
  namespace: string;
  days: number;
  /** Extra SANs (e.g. localhost for tests or a `url`-form webhook). */
  dns?: string[];
  ips?: string[];
  openssl?: string;
}

export interface CertSet {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** base64 of the CA PEM, as `caBundle` takes it. */
  caBundle: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function serviceNames(service: string, namespace: string): string[] {
  for (const [what, v] of [['--service', service], ['--namespace', namespace]] as const) {
    if (!DNS_LABEL.test(v)) throw new ArcaError('ERR_INVALID_REQUEST', `${what} must be a DNS label (lowercase letters, digits, -)`);
  }
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export async function createCerts(r: CertRequest): Promise<CertSet> {
  if (!Number.isInteger(r.days) || r.days < 1 || r.days > 3650) throw new ArcaError('ERR_FIELD_OUT_OF_RANGE', '--days must be between 1 and 3650');
  const dns = [...serviceNames(r.service, r.namespace), ...(r.dns ?? [])];
  const openssl = r.openssl ?? 'openssl';
  const dir = await mkdtemp(join(tmpdir(), 'arca-injector-certs-'));
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const days = String(r.days);
  try {
    await writeFile(f('ext.cnf'), [
      `subjectAltName=${[...dns.map((d) => `DNS:${d}`), ...(r.ips ?? []).map((i) => `IP:${i}`)].join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    await run(openssl, ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', days, '-subj', '/CN=arca-injector-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await run(openssl, ['req', ...ec, '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', `/CN=${dns[2]}`]);
    await run(openssl, ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '7')}`,
      '-days', days, '-sha256', '-extfile', f('ext.cnf'), '-out', f('tls.crt')]);
    const [caPem, certPem, keyPem] = await Promise.all([readFile(f('ca.crt'), 'utf8'), readFile(f('tls.crt'), 'utf8'), readFile(f('tls.key'), 'utf8')]);
    const ca = new X509Certificate(caPem);
    const cert = new X509Certificate(certPem);
    if (!cert.verify(ca.publicKey) || cert.checkHost(dns[2]!) === undefined || !cert.checkPrivateKey(createPrivateKey(keyPem))) {
      throw new ArcaError('ERR_INTERNAL', 'openssl produced a certificate that does not verify', { expose: true });
    }
    return { caPem, certPem, keyPem, caBundle: Buffer.from(caPem).toString('base64') };
  } catch (err) {
    if (err instanceof ArcaError) throw err;
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new ArcaError('ERR_UNSUPPORTED_OPERATION', 'the openssl command is needed to create certificates (install openssl, or use cert-manager)');
    throw new ArcaError('ERR_INTERNAL', `openssl failed: ${(e.stderr ?? '').split('\n')[0] || 'error'}`, { expose: true });
  } finally {
    // The CA key lives only here; removing the directory discards it.
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes ca.crt, tls.crt and tls.key (0600) into `out`. */
export async function writeCerts(out: string, s: CertSet): Promise<string[]> {
  const files = [join(out, 'ca.crt'), join(out, 'tls.crt'), join(out, 'tls.key')];
  await writeFile(files[0]!, s.caPem, { mode: 0o644 });
  await writeFile(files[1]!, s.certPem, { mode: 0o644 });
  await writeFile(files[2]!, s.keyPem, { mode: 0o600 });
  await chmod(files[2]!, 0o600);
  return files;
}
