/** CPH-FILE-01…06, CPH-PKI-01/02 (files and certificates), CPH-PORT-01, CPH-POD-01…03 (cluster objects). */
import type { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { type CheckDef, type Verdict, fail, pass, skip } from './check-def.ts';
import { type CheckContext, parseCerts, subjectOrgs } from './context.ts';
import { type FileStat, modeString, withinMode } from './host.ts';
import { arr, obj } from './manifest.ts';
import type { Severity } from './types.ts';

const KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'scheduler.conf', 'controller-manager.conf'];

async function walk(ctx: CheckContext, dir: string, out: [string, FileStat][] = []): Promise<[string, FileStat][]> {
  for (const n of await ctx.host.list(dir)) {
    const p = `${dir}/${n}`;
    const st = await ctx.host.stat(p);
    if (!st) continue;
    out.push([p, st]);
    if (st.dir) await walk(ctx, p, out);
  }
  return out;
}

async function statFiles(ctx: CheckContext, paths: string[], ok: (s: FileStat) => boolean, what: string): Promise<Verdict> {
  const bad: string[] = [];
  const good: string[] = [];
  for (const p of paths) {
    const st = await ctx.host.stat(p);
    if (st) (ok(st) ? good : bad).push(`${modeString(st)} ${p}`);
  }
  if (bad.length) return fail(bad.join('; '));
  return good.length ? pass(good.join('; ')) : skip(`no ${what} found`);
}

const rootOwned = (s: FileStat) => s.uid === 0 && s.gid === 0;

/** client certificates embedded in the control-plane kubeconfigs */
async function kubeconfigCerts(ctx: CheckContext): Promise<[string, X509Certificate][]> {
  const out: [string, X509Certificate][] = [];
  const files = [...KUBECONFIGS, 'kubelet.conf'].map((n) => `${ctx.kubeconfigDir}/${n}`);
  for (const f of files) {
    const t = await ctx.host.read(f);
    if (t === undefined) continue;
    let doc: unknown;
    try {
      doc = parse(t);
    } catch {
      continue;
    }
    for (const u of arr(obj(doc)['users'])) {
      const data = obj(obj(u)['user'])['client-certificate-data'];
      if (typeof data === 'string') for (const c of parseCerts(Buffer.from(data, 'base64').toString('utf8'))) out.push([f, c]);
    }
  }
  return out;
}

async function pkiCerts(ctx: CheckContext): Promise<[string, X509Certificate][]> {
  const out: [string, X509Certificate][] = [];
  for (const [p, st] of await walk(ctx, ctx.pkiDir)) {
    if (st.dir || !p.endsWith('.crt')) continue;
    for (const c of parseCerts(await ctx.host.read(p))) out.push([p, c]);
  }
  return out;
}

const DAY = 86_400_000;

export const HOST_CHECKS: CheckDef[] = [
  {
    id: 'CPH-FILE-01',
    title: 'Control-plane manifests 600 root:root',
    severity: 'medium',
    fix: 'chmod 600 and chown root:root /etc/kubernetes/manifests/*.yaml',
    run: (ctx) =>
      statFiles(ctx, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((n) => `${ctx.manifestsDir}/${n}.yaml`), (s) => withinMode(s.mode, 0o600) && rootOwned(s), 'manifests'),
  },
  {
    id: 'CPH-FILE-02',
    title: 'Kubeconfigs 600 root:root',
    severity: 'high',
    fix: 'chmod 600 and chown root:root admin.conf, super-admin.conf, scheduler.conf, controller-manager.conf',
    run: (ctx) => statFiles(ctx, KUBECONFIGS.map((n) => `${ctx.kubeconfigDir}/${n}`), (s) => withinMode(s.mode, 0o600) && rootOwned(s), 'kubeconfigs'),
  },
  {
    id: 'CPH-FILE-03',
    title: 'PKI ownership root:root',
    severity: 'medium',
    fix: `chown -R root:root the PKI directory`,
    async run(ctx) {
      const all = await walk(ctx, ctx.pkiDir);
      if (!all.length) return skip(`${ctx.pkiDir}: empty or not found`);
      const bad = all.filter(([, s]) => !rootOwned(s)).map(([p, s]) => `${modeString(s)} ${p}`);
      return bad.length ? fail(bad.join('; ')) : pass(`${all.length} entries under ${ctx.pkiDir} owned by 0:0`);
    },
  },
  {
    id: 'CPH-FILE-04',
    title: 'PKI certs ≤ 644',
    severity: 'low',
    fix: 'chmod 644 (or stricter) every *.crt under the PKI directory',
    async run(ctx) {
      const crts = (await walk(ctx, ctx.pkiDir)).filter(([p, s]) => !s.dir && p.endsWith('.crt'));
      return statFiles(ctx, crts.map(([p]) => p), (s) => withinMode(s.mode, 0o644), `*.crt under ${ctx.pkiDir}`);
    },
  },
  {
    id: 'CPH-FILE-05',
    title: 'PKI private keys 600',
    severity: 'high',
    fix: 'chmod 600 every *.key under the PKI directory',
    async run(ctx) {
      const keys = (await walk(ctx, ctx.pkiDir)).filter(([p, s]) => !s.dir && p.endsWith('.key'));
      return statFiles(ctx, keys.map(([p]) => p), (s) => withinMode(s.mode, 0o600) && rootOwned(s), `*.key under ${ctx.pkiDir}`);
    },
  },
  {
    id: 'CPH-FILE-06',
    title: 'super-admin.conf not left on nodes',
    severity: 'medium',
    fix: 'move super-admin.conf off the node (keep it offline as break-glass)',
    async run(ctx) {
      const p = `${ctx.kubeconfigDir}/super-admin.conf`;
      return (await ctx.host.stat(p)) ? fail(`${p} present`) : pass(`${p} absent`);
    },
  },
  {
    id: 'CPH-PORT-01',
    title: 'Listening ports match the inventory',
    severity: 'high',
    fix: 'rebind or disable the listener, or firewall it (etcd only from control-plane nodes, 10250 only from the control plane and monitoring)',
    run(ctx) {
      if (!ctx.listeners) return skip('listening sockets not read (give --listeners with `ss -ltn` output or /proc/net/tcp)');
      const loop = (a: string) => a.startsWith('127.') || a === '::1';
      const rules: [number, Severity, boolean][] = [
        // port, severity, true = bad anywhere / false = bad only off loopback
        [8080, 'critical', true], [10255, 'high', true], [10251, 'high', true], [10252, 'high', true], [4194, 'high', true],
        [2381, 'medium', false], [10257, 'medium', false], [10259, 'medium', false], [10248, 'low', false], [10249, 'low', false],
      ];
      const order: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
      let worst = -1;
      const bad: string[] = [];
      for (const l of ctx.listeners) {
        const r = rules.find(([p]) => p === l.port);
        if (!r || (!r[2] && loop(l.address))) continue;
        bad.push(`${l.address}:${l.port}`);
        worst = Math.max(worst, order.indexOf(r[1]));
      }
      const note = ' (reachability from workers/outside not probed)';
      return bad.length ? fail(`listening: ${bad.join(', ')}${note}`, order[worst]) : pass(`${ctx.listeners.length} listeners match the inventory${note}`);
    },
  },
  {
    id: 'CPH-POD-01',
    title: 'SA token automount only where needed',
    severity: 'medium',
    fix: 'automountServiceAccountToken: false on ServiceAccounts and on Pods that do not call the API',
    run(ctx) {
      if (!ctx.objects) return skip('cluster objects not given (--objects: kubectl get pods,serviceaccounts -A -o yaml)');
      const sa = new Map<string, unknown>();
      for (const o of ctx.objects.filter((x) => x['kind'] === 'ServiceAccount')) {
        const m = obj(o['metadata']);
        sa.set(`${String(m['namespace'] ?? 'default')}/${String(m['name'])}`, o['automountServiceAccountToken']);
      }
      const mounted: string[] = [];
      const pods = ctx.objects.filter((x) => x['kind'] === 'Pod');
      for (const p of pods) {
        const m = obj(p['metadata']);
        const ns = String(m['namespace'] ?? 'default');
        if (ns === 'kube-system') continue; // system pods call the API by design
        const spec = obj(p['spec']);
        const saName = String(spec['serviceAccountName'] ?? 'default');
        const podVal = spec['automountServiceAccountToken'];
        const on = podVal !== undefined ? podVal !== false : sa.get(`${ns}/${saName}`) !== false;
        if (on) mounted.push(`${ns}/${String(m['name'] ?? '?')} (sa ${saName})`);
      }
      return mounted.length ? fail(`token mounted: ${mounted.join(', ')}`) : pass(`${pods.length} pods checked, no token automounted outside kube-system`);
    },
  },
  {
    id: 'CPH-POD-02',
    title: 'Default ServiceAccount not used',
    severity: 'low',
    fix: 'give each workload its own ServiceAccount; set automountServiceAccountToken: false on every default SA',
    run(ctx) {
      if (!ctx.objects) return skip('cluster objects not given (--objects)');
      const bad: string[] = [];
      const defaults = ctx.objects.filter((x) => x['kind'] === 'ServiceAccount' && obj(x['metadata'])['name'] === 'default');
      for (const d of defaults) if (d['automountServiceAccountToken'] !== false) bad.push(`${String(obj(d['metadata'])['namespace'])}/default mounts a token`);
      for (const b of ctx.objects.filter((x) => x['kind'] === 'RoleBinding' || x['kind'] === 'ClusterRoleBinding')) {
        for (const s of arr(b['subjects']).map(obj)) {
          if (s['kind'] === 'ServiceAccount' && s['name'] === 'default') bad.push(`${String(b['kind'])} ${String(obj(b['metadata'])['name'])} binds ${String(s['namespace'])}/default`);
        }
      }
      return bad.length ? fail(bad.join('; ')) : pass(`${defaults.length} default ServiceAccounts, none mounting or bound`);
    },
  },
  {
    id: 'CPH-POD-03',
    title: 'Seccomp RuntimeDefault',
    severity: 'medium',
    fix: 'seccompProfile.type: RuntimeDefault (or PodSecurity restricted), or seccompDefault: true on nodes',
    run(ctx) {
      if (!ctx.objects) return skip('cluster objects not given (--objects)');
      const nodeDefault = ctx.kubelet?.value('seccompDefault') === true;
      const bad: string[] = [];
      const objs = ctx.objects.filter((x) => x['kind'] === 'Pod' || x['securityContext'] !== undefined);
      for (const o of objs) {
        const spec = o['kind'] === 'Pod' ? obj(o['spec']) : o;
        const podType = obj(obj(spec['securityContext'])['seccompProfile'])['type'];
        const containers = arr(spec['containers']).map(obj);
        const types = containers.length ? containers.map((c) => obj(obj(c['securityContext'])['seccompProfile'])['type'] ?? podType) : [podType];
        const ok = types.every((t) => t === 'RuntimeDefault' || t === 'Localhost' || (t === undefined && nodeDefault));
        if (!ok) bad.push(`${String(obj(o['metadata'])['name'] ?? 'securityContext')}: ${types.map((t) => String(t ?? 'unset')).join(',')}`);
      }
      return bad.length ? fail(bad.join('; ')) : pass(`${objs.length} pod specs use RuntimeDefault/Localhost`);
    },
  },
  {
    id: 'CPH-PKI-01',
    title: 'Certificate expiry',
    severity: 'high',
    fix: 'renew (kubeadm certs renew or the external CA agent) and restart consumers',
    async run(ctx) {
      const certs = [...(await pkiCerts(ctx)), ...(await kubeconfigCerts(ctx))];
      if (!certs.length) return skip(`no certificates under ${ctx.pkiDir} or in kubeconfigs`);
      const order: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
      let worst = -1;
      const bad: string[] = [];
      const now = ctx.now.getTime();
      for (const [file, c] of certs) {
        const from = new Date(c.validFrom).getTime();
        const to = new Date(c.validTo).getTime();
        const left = to - now;
        const life = to - from;
        const days = Math.floor(left / DAY);
        let sev: Severity | undefined;
        if (left <= 0) sev = 'critical';
        else if (left < 7 * DAY || left < life * 0.1) sev = 'high';
        else if (life >= 365 * DAY ? left <= 30 * DAY : left <= life * 0.2) sev = 'medium';
        const ca = certs.find(([, x]) => x.ca && x !== c && c.checkIssued(x));
        if (ca && !c.ca && new Date(ca[1].validTo).getTime() < to) {
          sev = 'critical';
          bad.push(`${file}: issuing CA ${ca[0]} expires before it`);
        }
        if (sev) {
          bad.push(`${file} notAfter ${c.validTo} (${days} d left)`);
          worst = Math.max(worst, order.indexOf(sev));
        }
      }
      return bad.length ? fail(bad.join('; '), order[worst]) : pass(`${certs.length} certificates, none near expiry`);
    },
  },
  {
    id: 'CPH-PKI-02',
    title: 'system:masters client certs',
    severity: 'medium',
    fix: 'reissue with a non-superuser group bound by RBAC; move the break-glass kubeconfig off-node',
    async run(ctx) {
      const certs = [...(await pkiCerts(ctx)), ...(await kubeconfigCerts(ctx))];
      if (!certs.length) return skip(`no certificates under ${ctx.pkiDir} or in kubeconfigs`);
      const bad = certs.filter(([, c]) => subjectOrgs(c).includes('system:masters')).map(([f]) => `${f} O=system:masters`);
      return bad.length ? fail(bad.join('; ')) : pass(`${certs.length} certificates, none with O=system:masters`);
    },
  },
];
