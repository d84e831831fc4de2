/** TLS minimum version and cipher-suite rule shared by CPH-API-12 (apiserver, etcd) and CPH-KUB-07. */
import { type Verdict, fail, pass, warn } from './check-def.ts';

/** component-base InsecureTLSCipherNames() plus the patterns they follow */
const INSECURE = new Set([
  'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
]);
const insecure = (s: string) => INSECURE.has(s) || /RC4|3DES|_CBC_SHA256$/.test(s);
const OLD_VERSIONS = new Set(['VersionTLS10', 'VersionTLS11', 'TLS1.0', 'TLS1.1']);

export function tlsVerdict(minVersion: string | undefined, suites: string[] | undefined, source: string): Verdict {
  const ev = `${source}: min version ${minVersion ?? '(default TLS 1.2)'}, cipher suites ${suites ? suites.join(',') : '(Go defaults)'}`;
  const bad = [...(minVersion && OLD_VERSIONS.has(minVersion) ? [minVersion] : []), ...(suites ?? []).filter(insecure)];
  if (bad.length) return fail(`${ev}: insecure ${bad.join(', ')}`);
  if (!suites) return warn(`${ev} (set the list explicitly; kube-bench fails the absent flag)`, 'info');
  return pass(ev);
}
