/** CPH-API-01…17: kube-apiserver flags, with the defaults of §1.3 applied when a flag is absent. */
import { parse } from 'yaml';
import { type CheckDef, NO_APISERVER, type Verdict, fail, pass, skip, warn } from './check-def.ts';
import { type CheckContext, parseCerts, subjectOrgs } from './context.ts';
import type { Flags } from './flags.ts';
import { modeString, withinMode } from './host.ts';
import { arr, hostPathOf, obj, strs } from './manifest.ts';
import { tlsVerdict } from './tls.ts';

const onApi = (f: (a: Flags, ctx: CheckContext) => Verdict | Promise<Verdict>) => (ctx: CheckContext) =>
  ctx.apiserver ? f(ctx.apiserver.flags, ctx) : skip(NO_APISERVER);

const HEALTH = new Set(['/livez', '/readyz', '/healthz']);
/** roles unauthenticated users hold by default (bootstrap RBAC) */
const DEFAULT_ANON_ROLES = new Set(['system:public-info-viewer']);

/** RoleBindings/ClusterRoleBindings granting anything beyond discovery/health to anonymous users. */
export function anonymousGrants(objects: Record<string, unknown>[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (o['kind'] !== 'ClusterRoleBinding' && o['kind'] !== 'RoleBinding') continue;
    const role = String(obj(o['roleRef'])['name'] ?? '');
    if (DEFAULT_ANON_ROLES.has(role)) continue;
    const anon = arr(o['subjects']).some((s) => {
      const so = obj(s);
      return (so['kind'] === 'Group' && so['name'] === 'system:unauthenticated') || (so['kind'] === 'User' && so['name'] === 'system:anonymous');
    });
    if (anon) out.push(`${o['kind']} ${String(obj(o['metadata'])['name'] ?? '?')} → ${role}`);
  }
  return out;
}

async function readYaml(ctx: CheckContext, path: string): Promise<Record<string, unknown> | undefined> {
  const t = await ctx.host.read(hostPathOf(ctx.apiserver, path));
  if (t === undefined) return undefined;
  try {
    return obj(parse(t));
  } catch {
    return undefined;
  }
}

/** Audit level of the first policy rule that applies to a resource (undefined = not logged). */
export function auditLevel(policy: Record<string, unknown>, group: string, resource: string): string | undefined {
  for (const r of arr(policy['rules']).map(obj)) {
    if (r['nonResourceURLs']) continue;
    const res = arr(r['resources']).map(obj);
    const hit = !res.length || res.some((g) => String(g['group'] ?? '') === group && (!g['resources'] || strs(g['resources']).includes(resource)));
    if (hit) return String(r['level'] ?? 'None');
  }
  return undefined;
}

export const API_CHECKS: CheckDef[] = [
  {
    id: 'CPH-API-01',
    title: '--etcd-cafile',
    severity: 'high',
    fix: '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
    run: onApi((a) => (a.get('etcd-cafile') ? pass(a.ev('etcd-cafile')) : fail(a.ev('etcd-cafile')))),
  },
  {
    id: 'CPH-API-02',
    title: '--etcd-certfile / --etcd-keyfile',
    severity: 'critical',
    fix: 'issue apiserver-etcd-client (EKU clientAuth, etcd CA) and set --etcd-certfile and --etcd-keyfile',
    run: onApi((a) => {
      const ev = `${a.ev('etcd-certfile')}; ${a.ev('etcd-keyfile')}`;
      return a.get('etcd-certfile') && a.get('etcd-keyfile') ? pass(ev) : fail(ev);
    }),
  },
  {
    id: 'CPH-API-03',
    title: '--etcd-servers uses https',
    severity: 'critical',
    fix: 'switch every --etcd-servers entry to https (requires CPH-ETCD-01)',
    run: onApi((a) => {
      const s = a.list('etcd-servers');
      return s.length && s.every((u) => u.startsWith('https://')) ? pass(a.ev('etcd-servers')) : fail(a.ev('etcd-servers'));
    }),
  },
  {
    id: 'CPH-API-04',
    title: 'Anonymous auth',
    severity: 'medium',
    fix: '1.32+: --authentication-config with anonymous.conditions (/livez, /readyz, /healthz); else keep anonymous only with Node,RBAC and no grants to system:anonymous/system:unauthenticated',
    run: onApi(async (a, ctx) => {
      const cfgPath = a.get('authentication-config');
      if (cfgPath) {
        const c = await readYaml(ctx, cfgPath);
        if (!c) return warn(`${a.ev('authentication-config')}: not readable`);
        const anon = obj(c['anonymous']);
        if (anon['enabled'] !== true) return pass(`${cfgPath}: anonymous disabled`);
        const paths = arr(anon['conditions']).map((x) => String(obj(x)['path']));
        if (paths.length && paths.every((p) => HEALTH.has(p))) return pass(`${cfgPath}: anonymous only for ${paths.join(', ')}`);
      } else if (!a.bool('anonymous-auth', true)) return pass(a.ev('anonymous-auth'));
      const ev = cfgPath ? `${cfgPath}: anonymous enabled without health-only conditions` : `${a.ev('anonymous-auth')} (default true)`;
      // kube-apiserver resets anonymous to false under AlwaysAllow (authentication.go ApplyAuthorization)
      if (!cfgPath && !a.get('authorization-config') && (!a.has('authorization-mode') || a.list('authorization-mode').includes('AlwaysAllow'))) {
        return pass(`${ev}; forced off by the apiserver because authorization is AlwaysAllow (that is CPH-API-06)`);
      }
      if (!ctx.objects) return warn(`${ev}; RBAC grants to system:anonymous not checked (give --objects with RBAC bindings)`);
      const grants = anonymousGrants(ctx.objects);
      return grants.length ? fail(`${ev}; ${grants.join(', ')}`, 'high') : pass(`${ev}; no RBAC grants to anonymous beyond discovery/health`);
    }),
  },
  {
    id: 'CPH-API-05',
    title: 'No insecure port',
    severity: 'critical',
    fix: '< 1.20: --insecure-port=0; ≥ 1.24: delete --insecure-port, --port, --insecure-bind-address, --address',
    run: onApi((a, ctx) => {
      const v = ctx.version;
      const names = ['insecure-port', 'port', 'insecure-bind-address', 'address'].filter((n) => a.has(n));
      const ev = names.length ? names.map((n) => a.ev(n)).join('; ') : `${a.source}: no insecure-port flags`;
      const ver = v ? ` (v${v[0]}.${v[1]})` : ' (version unknown: image has no tag)';
      if (v && v[0] === 1 && v[1] < 20) return a.get('insecure-port') === '0' ? pass(ev + ver) : fail(ev + ver);
      if (v && v[0] === 1 && v[1] < 24) return ['insecure-port', 'port'].every((n) => !a.has(n) || a.get(n) === '0') ? pass(ev + ver) : fail(ev + ver);
      return names.length ? fail(`${ev}${ver}: removed flags, the apiserver refuses to start`, 'medium') : pass(ev + ver);
    }),
  },
  {
    id: 'CPH-API-06',
    title: 'Authorization: not AlwaysAllow; Node and RBAC',
    severity: 'critical',
    fix: '--authorization-mode=Node,RBAC (or an AuthorizationConfiguration listing Node then RBAC)',
    run: onApi(async (a, ctx) => {
      let modes: string[];
      let ev: string;
      const cfg = a.get('authorization-config');
      if (cfg) {
        const c = await readYaml(ctx, cfg);
        if (!c) return warn(`${a.ev('authorization-config')}: not readable`);
        modes = arr(c['authorizers']).map((x) => String(obj(x)['type']));
        ev = `${cfg}: authorizers ${modes.join(',')}`;
      } else {
        modes = a.has('authorization-mode') ? a.list('authorization-mode') : ['AlwaysAllow'];
        ev = `${a.ev('authorization-mode')}${a.has('authorization-mode') ? '' : ' (default AlwaysAllow)'}`;
      }
      if (modes.includes('AlwaysAllow')) return fail(ev, 'critical');
      if (!modes.includes('Node') || !modes.includes('RBAC')) return fail(ev, 'high');
      return pass(ev);
    }),
  },
  {
    id: 'CPH-API-07',
    title: 'NodeRestriction admission',
    severity: 'high',
    fix: 'add NodeRestriction to --enable-admission-plugins (with Node authorization)',
    run: onApi((a) => {
      const ev = `${a.ev('enable-admission-plugins')}; ${a.ev('disable-admission-plugins')}`;
      return a.list('enable-admission-plugins').includes('NodeRestriction') && !a.list('disable-admission-plugins').includes('NodeRestriction') ? pass(ev) : fail(ev);
    }),
  },
  {
    id: 'CPH-API-08',
    title: 'No AlwaysAdmit; protective plugins not disabled',
    severity: 'high',
    fix: 'drop AlwaysAdmit from the enable list and ServiceAccount, NamespaceLifecycle, CertificateSubjectRestriction, CertificateApproval, CertificateSigning from the disable list',
    run: onApi((a) => {
      const bad = [
        ...a.list('enable-admission-plugins').filter((p) => p === 'AlwaysAdmit').map((p) => `${p} enabled`),
        ...a
          .list('disable-admission-plugins')
          .filter((p) => ['ServiceAccount', 'NamespaceLifecycle', 'CertificateSubjectRestriction', 'CertificateApproval', 'CertificateSigning'].includes(p))
          .map((p) => `${p} disabled`),
      ];
      const ev = `${a.ev('enable-admission-plugins')}; ${a.ev('disable-admission-plugins')}`;
      return bad.length ? fail(`${ev}: ${bad.join(', ')}`) : pass(ev);
    }),
  },
  {
    id: 'CPH-API-09',
    title: '--service-account-lookup',
    severity: 'medium',
    fix: 'remove --service-account-lookup or set it to true',
    run: onApi((a) => (a.bool('service-account-lookup', true) ? pass(a.ev('service-account-lookup')) : fail(a.ev('service-account-lookup')))),
  },
  {
    id: 'CPH-API-10',
    title: 'Service-account signing keys',
    severity: 'high',
    fix: 'set --service-account-key-file + --service-account-signing-key-file (+ issuer), or --service-account-signing-endpoint',
    run: onApi(async (a, ctx) => {
      const endpoint = a.get('service-account-signing-endpoint');
      if (endpoint) {
        const st = await ctx.host.stat(hostPathOf(ctx.apiserver, endpoint));
        const ev = `${a.ev('service-account-signing-endpoint')} (external signer; kube-bench 1.2.22 reports this as fail)`;
        if (st && (st.mode & 0o002) !== 0) return fail(`${ev}: ${modeString(st)} world-writable`);
        return pass(ev);
      }
      const ev = `${a.ev('service-account-key-file')}; ${a.ev('service-account-signing-key-file')}`;
      const key = a.get('service-account-signing-key-file');
      if (!a.list('service-account-key-file').length || !key) return fail(ev);
      const st = await ctx.host.stat(hostPathOf(ctx.apiserver, key));
      if (st && !withinMode(st.mode, 0o600)) return fail(`${ev}: ${modeString(st)} ${key}`);
      return pass(ev);
    }),
  },
  {
    id: 'CPH-API-11',
    title: 'Serving cert and client CA',
    severity: 'high',
    fix: 'issue the apiserver serving certificate and set --tls-cert-file, --tls-private-key-file, --client-ca-file',
    run: onApi(async (a, ctx) => {
      const names = ['tls-cert-file', 'tls-private-key-file', 'client-ca-file'];
      const ev = names.map((n) => a.ev(n)).join('; ');
      if (!names.every((n) => a.get(n))) return fail(ev);
      const c = parseCerts(await ctx.host.read(hostPathOf(ctx.apiserver, a.get('tls-cert-file')!)))[0];
      if (c && !c.checkHost('kubernetes.default.svc')) return fail(`${ev}: serving certificate SANs lack kubernetes.default.svc`);
      return pass(ev);
    }),
  },
  {
    id: 'CPH-API-12',
    title: 'TLS cipher suites and minimum version',
    severity: 'medium',
    fix: '--tls-min-version=VersionTLS12 (or 13) and --tls-cipher-suites from the CIS allow-list (etcd: --tls-min-version=TLS1.2, --cipher-suites)',
    run: onApi((a, ctx) => {
      const api = tlsVerdict(a.get('tls-min-version'), a.has('tls-cipher-suites') ? a.list('tls-cipher-suites') : undefined, `${a.source}`);
      const s = ctx.etcdSettings;
      if (!s) return api;
      const etcd = tlsVerdict(s.get('tls-min-version'), s.has('cipher-suites') ? s.list('cipher-suites') : undefined, 'etcd.yaml');
      const order = ['fail', 'warn', 'pass', 'skip'];
      const worst = order.indexOf(api.status) <= order.indexOf(etcd.status) ? api : etcd;
      return { ...worst, evidence: `${api.evidence}; ${etcd.evidence}` };
    }),
  },
  {
    id: 'CPH-API-13',
    title: 'apiserver→kubelet client cert',
    severity: 'high',
    fix: 'issue apiserver-kubelet-client (O kubeadm:cluster-admins or a group bound to system:kubelet-api-admin) and set both flags',
    run: onApi(async (a, ctx) => {
      const ev = `${a.ev('kubelet-client-certificate')}; ${a.ev('kubelet-client-key')}`;
      if (!a.get('kubelet-client-certificate') || !a.get('kubelet-client-key')) return fail(ev);
      const c = parseCerts(await ctx.host.read(hostPathOf(ctx.apiserver, a.get('kubelet-client-certificate')!)))[0];
      if (c && subjectOrgs(c).includes('system:masters')) return fail(`${ev}: certificate O=system:masters`);
      return pass(ev);
    }),
  },
  {
    id: 'CPH-API-14',
    title: '--kubelet-certificate-authority',
    severity: 'medium',
    fix: 'enable serverTLSBootstrap on all kubelets with an approver, then set --kubelet-certificate-authority to the signing CA',
    run: onApi((a) => (a.get('kubelet-certificate-authority') ? pass(a.ev('kubelet-certificate-authority')) : fail(a.ev('kubelet-certificate-authority')))),
  },
  {
    id: 'CPH-API-15',
    title: 'Profiling off (apiserver, KCM, scheduler)',
    severity: 'low',
    fix: '--profiling=false on kube-apiserver, kube-controller-manager and kube-scheduler; no --contention-profiling or --debug-socket-path',
    run(ctx) {
      const comps = [ctx.apiserver, ctx.kcm, ctx.scheduler].filter((c) => c !== undefined);
      if (!comps.length) return skip(NO_APISERVER);
      const bad: string[] = [];
      const ok: string[] = [];
      for (const c of comps) {
        const f = c.flags;
        if (f.bool('profiling', true)) bad.push(`${f.ev('profiling')}${f.has('profiling') ? '' : ' (default true)'}`);
        else ok.push(f.ev('profiling'));
        if (f.bool('contention-profiling', false)) bad.push(f.ev('contention-profiling'));
        if (f.get('debug-socket-path')) bad.push(f.ev('debug-socket-path'));
      }
      return bad.length ? fail(bad.join('; ')) : pass(ok.join('; '));
    },
  },
  {
    id: 'CPH-API-16',
    title: 'Audit logging',
    severity: 'medium',
    fix: 'write a policy (Metadata for secrets/configmaps/tokenreviews), set --audit-policy-file, --audit-log-path, --audit-log-maxage=30, --audit-log-maxbackup=10, --audit-log-maxsize=100',
    run: onApi(async (a, ctx) => {
      const policyPath = a.get('audit-policy-file');
      const ev = [a.ev('audit-policy-file'), a.ev('audit-log-path')].join('; ');
      if (!policyPath) return fail(`${ev}: without a policy nothing is recorded`);
      if (!a.get('audit-log-path') && !a.get('audit-webhook-config-file')) return fail(`${ev}: no backend (--audit-log-path or --audit-webhook-config-file)`);
      const short: string[] = [];
      if (a.get('audit-log-path')) {
        for (const [n, min] of [['audit-log-maxage', 30], ['audit-log-maxbackup', 10], ['audit-log-maxsize', 100]] as const) {
          if (!(Number(a.get(n) ?? 0) >= min)) short.push(`--${n}=${a.get(n) ?? '(absent)'} < ${min}`);
        }
      }
      const policy = await readYaml(ctx, policyPath);
      const levels: string[] = [];
      let bodies = false;
      if (policy) {
        for (const [g, r] of [['', 'secrets'], ['', 'configmaps'], ['authentication.k8s.io', 'tokenreviews']] as const) {
          const l = auditLevel(policy, g, r) ?? 'None';
          if (l === 'Request' || l === 'RequestResponse') bodies = true;
          if (l !== 'Metadata') levels.push(`${r} at ${l}`);
        }
      }
      if (bodies) return fail(`${ev}: policy writes bodies (${levels.join(', ')}): secret values end up in the log`, 'high');
      const problems = [...short, ...levels];
      if (!policy) problems.push(`policy ${policyPath} not readable`);
      return problems.length ? fail(`${ev}: ${problems.join(', ')}`) : pass(ev);
    }),
  },
  {
    id: 'CPH-API-17',
    title: 'No static token file',
    severity: 'high',
    fix: 'remove --token-auth-file; use certificates, OIDC or service-account tokens',
    run: onApi((a) => (a.has('token-auth-file') ? fail(a.ev('token-auth-file')) : pass(a.ev('token-auth-file')))),
  },
];
