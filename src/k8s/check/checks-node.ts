/** CPH-CMS-01…05 (controller-manager, scheduler) and CPH-KUB-01…10 (kubelet, effective config). */
import { type CheckDef, NO_KUBELET, type Verdict, fail, pass, skip } from './check-def.ts';
import { type CheckContext, parseCerts } from './context.ts';
import { modeString, withinMode } from './host.ts';
import type { KubeletConfig } from './kubelet.ts';
import { hostPathOf } from './manifest.ts';
import { tlsVerdict } from './tls.ts';

const NO_CMS = 'kube-controller-manager / kube-scheduler manifests not found';
const onKubelet = (f: (k: KubeletConfig, ctx: CheckContext) => Verdict | Promise<Verdict>) => (ctx: CheckContext) =>
  ctx.kubelet ? f(ctx.kubelet, ctx) : skip(NO_KUBELET);
const is = (k: KubeletConfig, path: string, want: unknown) => (k.value(path) === want ? pass(k.ev(path)) : fail(k.ev(path)));

export const CMS_CHECKS: CheckDef[] = [
  {
    id: 'CPH-CMS-01',
    title: 'KCM/scheduler bound to loopback',
    severity: 'medium',
    fix: '--bind-address=127.0.0.1 on kube-controller-manager and kube-scheduler',
    run(ctx) {
      const comps = [ctx.kcm, ctx.scheduler].filter((c) => c !== undefined);
      if (!comps.length) return skip(NO_CMS);
      const bad = comps.filter((c) => !['127.0.0.1', '::1'].includes(c.flags.get('bind-address') ?? '0.0.0.0'));
      const ev = comps.map((c) => `${c.flags.ev('bind-address')}${c.flags.has('bind-address') ? '' : ' (default 0.0.0.0)'}`).join('; ');
      return bad.length ? fail(ev) : pass(ev);
    },
  },
  {
    id: 'CPH-CMS-02',
    title: '--use-service-account-credentials',
    severity: 'medium',
    fix: '--use-service-account-credentials=true',
    run: (ctx) => {
      const f = ctx.kcm?.flags;
      if (!f) return skip(NO_CMS);
      return f.bool('use-service-account-credentials', false) ? pass(f.ev('use-service-account-credentials')) : fail(f.ev('use-service-account-credentials'));
    },
  },
  {
    id: 'CPH-CMS-03',
    title: '--root-ca-file',
    severity: 'low',
    fix: '--root-ca-file=/etc/kubernetes/pki/ca.crt',
    run: (ctx) => {
      const f = ctx.kcm?.flags;
      if (!f) return skip(NO_CMS);
      return f.get('root-ca-file') ? pass(f.ev('root-ca-file')) : fail(f.ev('root-ca-file'));
    },
  },
  {
    id: 'CPH-CMS-04',
    title: 'CA private key on the node',
    severity: 'medium',
    fix: 'move CSR signing to an external CA, delete the CA keys from disk and blank the --cluster-signing-* flags',
    async run(ctx) {
      const found: string[] = [];
      const f = ctx.kcm?.flags;
      for (const [name, vals] of f?.parsed.values ?? []) {
        if (/^cluster-signing(-.+)?-key-file$/.test(name) && vals[vals.length - 1]) found.push(f!.ev(name));
      }
      for (const k of ['ca.key', 'etcd/ca.key', 'front-proxy-ca.key']) {
        if (await ctx.host.stat(`${ctx.pkiDir}/${k}`)) found.push(`${ctx.pkiDir}/${k} present`);
      }
      // Info where no external CA is adopted yet would need outside knowledge: report Medium (Arca goal)
      return found.length ? fail(found.join('; ')) : pass(`no CA private key under ${ctx.pkiDir}; no --cluster-signing-*-key-file`);
    },
  },
  {
    id: 'CPH-CMS-05',
    title: 'Kubelet serving-cert rotation not disabled',
    severity: 'low',
    fix: 'remove RotateKubeletServerCertificate=false from --feature-gates',
    run(ctx) {
      const sources: [string, string | undefined][] = [];
      if (ctx.kcm) sources.push([ctx.kcm.flags.ev('feature-gates'), ctx.kcm.flags.get('feature-gates')]);
      if (ctx.kubelet) {
        const g = ctx.kubelet.value('featureGates') as Record<string, unknown> | undefined;
        sources.push([ctx.kubelet.ev('featureGates'), g && g['RotateKubeletServerCertificate'] === false ? 'RotateKubeletServerCertificate=false' : '']);
      }
      if (!sources.length) return skip(`${NO_CMS}; ${NO_KUBELET}`);
      const off = sources.filter(([, v]) => /RotateKubeletServerCertificate=false/.test(v ?? ''));
      return off.length ? fail(off.map(([e]) => e).join('; ')) : pass(sources.map(([e]) => e).join('; '));
    },
  },
];

const KUBELET_CIS_SUITES = new Set([
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
]);

export const KUB_CHECKS: CheckDef[] = [
  {
    id: 'CPH-KUB-01',
    title: 'Kubelet anonymous auth off',
    severity: 'critical',
    fix: 'authentication.anonymous.enabled: false in the kubelet config file (or --anonymous-auth=false)',
    run: onKubelet((k) => is(k, 'authentication.anonymous.enabled', false)),
  },
  {
    id: 'CPH-KUB-02',
    title: 'Kubelet authorization Webhook',
    severity: 'critical',
    fix: 'authorization.mode: Webhook',
    run: onKubelet((k) => is(k, 'authorization.mode', 'Webhook')),
  },
  {
    id: 'CPH-KUB-03',
    title: 'Kubelet client CA + webhook authn',
    severity: 'high',
    fix: 'authentication.x509.clientCAFile: <cluster CA> and authentication.webhook.enabled: true',
    run: onKubelet((k) => {
      const ev = `${k.ev('authentication.x509.clientCAFile')}; ${k.ev('authentication.webhook.enabled')}`;
      return k.value('authentication.x509.clientCAFile') && k.value('authentication.webhook.enabled') === true ? pass(ev) : fail(ev);
    }),
  },
  {
    id: 'CPH-KUB-04',
    title: 'Read-only port 0',
    severity: 'high',
    fix: 'readOnlyPort: 0; scrape metrics on 10250 with a token',
    run: onKubelet((k) => (Number(k.value('readOnlyPort')) === 0 ? pass(k.ev('readOnlyPort')) : fail(k.ev('readOnlyPort')))),
  },
  {
    id: 'CPH-KUB-05',
    title: 'rotateCertificates',
    severity: 'medium',
    fix: 'rotateCertificates: true',
    run: onKubelet((k) => is(k, 'rotateCertificates', true)),
  },
  {
    id: 'CPH-KUB-06',
    title: 'CA-signed kubelet serving cert',
    severity: 'medium',
    fix: 'serverTLSBootstrap: true with a CSR approver, or tlsCertFile/tlsPrivateKeyFile issued by the --kubelet-certificate-authority CA',
    run: onKubelet(async (k, ctx) => {
      if (k.value('serverTLSBootstrap') === true) return pass(k.ev('serverTLSBootstrap'));
      const certPath = k.value('tlsCertFile');
      const ev = `${k.ev('serverTLSBootstrap')}; ${k.ev('tlsCertFile')}`;
      if (typeof certPath !== 'string' || !certPath) return fail(ev);
      const cert = parseCerts(await ctx.host.read(certPath))[0];
      if (cert && cert.issuer === cert.subject) return fail(`${ev}: self-signed`);
      const caPath = ctx.apiserver?.flags.get('kubelet-certificate-authority');
      if (cert && caPath) {
        const cas = parseCerts(await ctx.host.read(hostPathOf(ctx.apiserver, caPath)));
        if (cas.length && !cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return fail(`${ev}: not issued by ${caPath}`);
      }
      return pass(ev);
    }),
  },
  {
    id: 'CPH-KUB-07',
    title: 'Kubelet TLS cipher suites',
    severity: 'low',
    fix: 'tlsMinVersion: VersionTLS12 and tlsCipherSuites from the CIS kubelet list',
    run: onKubelet((k) => {
      const suites = k.value('tlsCipherSuites');
      const list = Array.isArray(suites) ? suites.map(String) : undefined;
      const min = k.value('tlsMinVersion');
      const v = tlsVerdict(typeof min === 'string' ? min : undefined, list, k.ev('tlsCipherSuites'));
      if (v.status === 'pass' && list?.some((s) => !KUBELET_CIS_SUITES.has(s) && !s.startsWith('TLS_AES_') && s !== 'TLS_CHACHA20_POLY1305_SHA256')) {
        return fail(`${v.evidence}: outside the CIS kubelet list`);
      }
      return v;
    }),
  },
  {
    id: 'CPH-KUB-08',
    title: 'protectKernelDefaults',
    severity: 'low',
    fix: 'set the kubelet sysctls first, then protectKernelDefaults: true',
    run: onKubelet((k, ctx) => {
      if (k.value('protectKernelDefaults') === true) return pass(k.ev('protectKernelDefaults'));
      // CIS dropped the check with benchmark v1.7 (Kubernetes 1.25)
      const old = ctx.version && ctx.version[0] === 1 && ctx.version[1] <= 24;
      return fail(`${k.ev('protectKernelDefaults')}${old ? '' : ' (not in CIS since Kubernetes 1.25)'}`, old ? 'low' : 'info');
    }),
  },
  {
    id: 'CPH-KUB-09',
    title: 'seccompDefault',
    severity: 'medium',
    fix: 'seccompDefault: true (test workloads first)',
    run: onKubelet((k) => is(k, 'seccompDefault', true)),
  },
  {
    id: 'CPH-KUB-10',
    title: 'Kubelet file modes',
    severity: 'medium',
    fix: 'chmod 600 and chown root:root the kubelet kubeconfig, config, unit drop-ins and /var/lib/kubelet/pki keys',
    run: onKubelet(async (k, ctx) => {
      const files: [string, 'medium' | 'low'][] = [[k.kubeconfig, 'medium']];
      if (k.configPath) files.push([k.configPath, 'low']);
      files.push(['/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', 'low']);
      for (const n of await ctx.host.list('/var/lib/kubelet/pki')) if (n.endsWith('.key') || n.endsWith('.pem')) files.push([`/var/lib/kubelet/pki/${n}`, 'medium']);
      const bad: [string, 'medium' | 'low'][] = [];
      const ok: string[] = [];
      for (const [f, sev] of files) {
        const st = await ctx.host.stat(f);
        if (!st) continue;
        const line = `${modeString(st)} ${f}`;
        if (withinMode(st.mode, 0o600) && st.uid === 0 && st.gid === 0) ok.push(line);
        else bad.push([line, sev]);
      }
      if (bad.length) return fail(bad.map(([l]) => l).join('; '), bad.some(([, s]) => s === 'medium') ? 'medium' : 'low');
      return ok.length ? pass(ok.join('; ')) : skip('no kubelet files found');
    }),
  },
];
