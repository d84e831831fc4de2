/**
 * pki benchmark (issue 19): `issue/:role` through the pki engine (P-256 leaf key generated, role
 * checks, certificate signed with a P-256 CA, stored) vs a bare loop in the same process that
 * generates a P-256 key and signs the same certificate (same extensions) with @peculiar/x509 and
 * exports the key as PEM. The engine runs on in-memory storage (no barrier, no HTTP): the figure
 * is the engine's own overhead over the signing work. Goal 0.5.
 */
import { webcrypto } from 'node:crypto';
import { createPkiEngine } from '../src/engines/pki/index.ts';
import { x509 } from '../src/engines/pki/x509-lib.ts';
import { silentLogger } from '../src/log/index.ts';
import { InmemStorage } from '../src/storage/index.ts';
import { comparePairs } from './lib/report.ts';

const DURATION_MS = 3000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG = { name: 'ECDSA', hash: 'SHA-256' } as const;

function req(path: string, data: Record<string, unknown>) {
  return { id: 'bench', operation: 'update' as const, path, mountPoint: 'pki/', data, auth: undefined, clientAddr: '127.0.0.1', can: () => true };
}

/** Runs each op in short alternating slices until each had `ms`; returns ops/s per op (drift spreads evenly). */
async function interleaved(ops: (() => Promise<unknown>)[], ms: number, sliceMs = 100): Promise<number[]> {
  const counts = ops.map(() => 0);
  const spent = ops.map(() => 0);
  for (let round = 0; round * sliceMs < ms; round++) {
    for (let i = 0; i < ops.length; i++) {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < sliceMs) {
        await ops[i]!();
        n++;
      }
      spent[i]! += performance.now() - t0;
      counts[i]! += n;
    }
  }
  return counts.map((n, i) => n / (spent[i]! / 1000));
}

export default async function pkiBench(): Promise<void> {
  const engine = createPkiEngine({ storage: new InmemStorage(), log: silentLogger(), now: Date.now, isActive: () => true });
  await engine.handle(req('root/generate/internal', { common_name: 'bench-ca', key_type: 'ec' }));
  await engine.handle(req('roles/leaf', { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', key_usage: ['DigitalSignature', 'KeyEncipherment'] }));
  const issueReq = req('issue/leaf', { common_name: 'svc.example.com', alt_names: 'alt.example.com', ip_sans: '127.0.0.1', ttl: '1h' });
  const issue = () => engine.handle(issueReq);

  const caKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=bare-ca', keys: caKeys as never, signingAlgorithm: SIG, extensions: [new x509.BasicConstraintsExtension(true, undefined, true)] });
  const caSki = await x509.SubjectKeyIdentifierExtension.create(caCert.publicKey);
  const bare = async () => {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '01', subject: [{ CN: ['svc.example.com'] }], issuer: caCert.subjectName, notBefore: new Date(now - 30_000), notAfter: new Date(now + 3600_000),
      publicKey: keys.publicKey as never, signingKey: caKeys.privateKey as never, signingAlgorithm: SIG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
        new x509.AuthorityKeyIdentifierExtension(caSki.keyId),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'svc.example.com' }, { type: 'dns', value: 'alt.example.com' }, { type: 'ip', value: '127.0.0.1' }]),
      ],
    });
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return cert.toString('pem');
  };
  await interleaved([bare, issue], 500);
  await comparePairs({
    name: 'pki.issue.p256',
    unit: 'ops/s',
    baseline: 'bare-peculiar-x509-sign',
    goal: 0.5,
    rounds: 3,
    pair: async () => {
      const [baselineValue = 0, value = 0] = await interleaved([bare, issue], DURATION_MS);
      return { value, baselineValue, extra: { leaf: 'ecdsa-p256', ca: 'ecdsa-p256', storage: 'inmem' } };
    },
  });
}
