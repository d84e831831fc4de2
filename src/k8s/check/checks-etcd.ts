/** CPH-ETCD-01…11: etcd's own TLS, peer TLS, CA separation, listeners and data files. */
import { type CheckDef, NO_ETCD, type Verdict, fail, pass, skip } from './check-def.ts';
import { type CheckContext, parseCerts } from './context.ts';
import type { EtcdSettings } from './etcd-settings.ts';
import { modeString, withinMode } from './host.ts';
import { hostPathOf } from './manifest.ts';

const onEtcd = (f: (s: EtcdSettings, ctx: CheckContext) => Verdict | Promise<Verdict>) => (ctx: CheckContext) =>
  ctx.etcd && ctx.etcdSettings ? f(ctx.etcdSettings, ctx) : skip(NO_ETCD);

const urls = (s: EtcdSettings, name: string, dflt: string) => (s.has(name) ? s.list(name) : [dflt]);
const isLoopback = (host: string) => /^(127\.|localhost$|\[?::1\]?$)/.test(host);
const hostOf = (u: string) => {
  try {
    return new URL(u).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return u;
  }
};

async function certExists(ctx: CheckContext, path: string | undefined): Promise<string | undefined> {
  if (!path) return 'not set';
  return (await ctx.host.stat(hostPathOf(ctx.etcd, path))) ? undefined : `${path} missing`;
}

export const ETCD_CHECKS: CheckDef[] = [
  {
    id: 'CPH-ETCD-01',
    title: 'Client TLS cert/key',
    severity: 'critical',
    fix: 'issue the etcd server certificate from the etcd CA and set --cert-file and --key-file',
    run: onEtcd(async (s, ctx) => {
      const ev = `${s.ev('cert-file')}; ${s.ev('key-file')}`;
      const cert = s.get('cert-file');
      const problems = [await certExists(ctx, cert), await certExists(ctx, s.get('key-file'))].filter(Boolean);
      if (problems.length) return fail(`${ev} (${problems.join(', ')})`);
      const c = parseCerts(await ctx.host.read(hostPathOf(ctx.etcd, cert!)))[0];
      if (c) {
        if (new Date(c.validTo) < ctx.now) return fail(`${ev}: certificate expired ${c.validTo}`);
        const hosts = urls(s, 'advertise-client-urls', 'http://localhost:2379').map(hostOf);
        const uncovered = hosts.filter((h) => !(c.checkHost(h) || c.checkIP(h)));
        if (uncovered.length) return fail(`${ev}: SANs do not cover ${uncovered.join(', ')}`);
      }
      return pass(ev);
    }),
  },
  {
    id: 'CPH-ETCD-02',
    title: 'Client certificate auth required',
    severity: 'critical',
    fix: 'add --client-cert-auth=true and --trusted-ca-file=<etcd CA> (give every client an etcd-CA-signed cert first)',
    run: onEtcd((s) => {
      const ev = `${s.ev('client-cert-auth')}; ${s.ev('trusted-ca-file')}`;
      const auth = s.bool('client-cert-auth', false);
      if (auth && s.has('trusted-ca-file')) return pass(ev);
      // etcd ≥ 3.4 requires client certs whenever a trusted CA is set (listener.go)
      if (s.has('trusted-ca-file')) return pass(`${ev} (etcd requires client certs when a trusted CA is set; set the flag explicitly for CIS)`);
      return fail(ev);
    }),
  },
  {
    id: 'CPH-ETCD-03',
    title: 'No --auto-tls',
    severity: 'high',
    fix: 'remove --auto-tls / ETCD_AUTO_TLS; use --cert-file/--key-file from the etcd CA',
    run: onEtcd((s) => (s.bool('auto-tls', false) ? fail(s.ev('auto-tls')) : pass(s.ev('auto-tls')))),
  },
  {
    id: 'CPH-ETCD-04',
    title: 'Peer TLS cert/key',
    severity: 'high',
    fix: 'issue per-member peer certificates, set --peer-cert-file/--peer-key-file and switch peer URLs to https',
    run: onEtcd((s) => {
      const peers = urls(s, 'listen-peer-urls', 'http://localhost:2380');
      const ev = `${s.ev('listen-peer-urls')}; ${s.ev('peer-cert-file')}; ${s.ev('peer-key-file')}`;
      if (s.has('peer-cert-file') && s.has('peer-key-file') && peers.every((u) => u.startsWith('https://'))) return pass(ev);
      const single = (s.get('initial-cluster') ?? '').split(',').filter(Boolean).length <= 1;
      if (single && peers.every((u) => isLoopback(hostOf(u)))) return fail(`${ev} (single member, peers on loopback only)`, 'info');
      return fail(ev);
    }),
  },
  {
    id: 'CPH-ETCD-05',
    title: 'Peer client certificate auth required',
    severity: 'high',
    fix: '--peer-client-cert-auth=true and --peer-trusted-ca-file=<etcd CA>',
    run: onEtcd((s) => {
      const ev = `${s.ev('peer-client-cert-auth')}; ${s.ev('peer-trusted-ca-file')}`;
      return s.bool('peer-client-cert-auth', false) && s.has('peer-trusted-ca-file') ? pass(ev) : fail(ev);
    }),
  },
  {
    id: 'CPH-ETCD-06',
    title: 'No --peer-auto-tls',
    severity: 'high',
    fix: 'remove --peer-auto-tls; use CA-issued peer certificates (CPH-ETCD-04)',
    run: onEtcd((s) => (s.bool('peer-auto-tls', false) ? fail(s.ev('peer-auto-tls')) : pass(s.ev('peer-auto-tls')))),
  },
  {
    id: 'CPH-ETCD-07',
    title: 'Dedicated etcd CA',
    severity: 'medium',
    fix: 'create a separate etcd CA; point --trusted-ca-file, --peer-trusted-ca-file and apiserver --etcd-cafile at it',
    run: onEtcd(async (s, ctx) => {
      const etcdCa = s.get('trusted-ca-file');
      const apiCa = ctx.apiserver?.flags.get('client-ca-file');
      if (!etcdCa || !apiCa) return skip(`${s.ev('trusted-ca-file')}; apiserver --client-ca-file ${apiCa ?? 'absent'}: nothing to compare`);
      const a = parseCerts(await ctx.host.read(hostPathOf(ctx.etcd, etcdCa)));
      const b = parseCerts(await ctx.host.read(hostPathOf(ctx.apiserver, apiCa)));
      if (!a.length || !b.length) return skip(`cannot read certificates from ${etcdCa} / ${apiCa}`);
      const fa = new Set(a.map((c) => c.fingerprint256));
      const shared = b.filter((c) => fa.has(c.fingerprint256)).map((c) => c.fingerprint256.slice(0, 11));
      const ev = `etcd trusted CA ${etcdCa}, apiserver client CA ${apiCa}`;
      return shared.length ? fail(`${ev}: both contain SHA256 ${shared.join(', ')}`) : pass(`${ev}: no certificate in common`);
    }),
  },
  {
    id: 'CPH-ETCD-08',
    title: 'No plaintext client listener',
    severity: 'critical',
    fix: 'make every client URL https (keep plain HTTP only for --listen-metrics-urls=http://127.0.0.1:2381)',
    run: onEtcd((s) => {
      const client = [...urls(s, 'listen-client-urls', 'http://localhost:2379'), ...s.list('listen-client-http-urls')];
      const metrics = s.list('listen-metrics-urls');
      const bad = [
        ...client.filter((u) => !(u.startsWith('https://') || u.startsWith('unixs://'))),
        ...metrics.filter((u) => u.startsWith('http://') && !isLoopback(hostOf(u))),
      ];
      const ev = `${s.ev('listen-client-urls')}${s.has('listen-client-urls') ? '' : ' (default http://localhost:2379)'}; ${s.ev('listen-metrics-urls')}`;
      return bad.length ? fail(`${ev}: plaintext ${bad.join(', ')}`) : pass(ev);
    }),
  },
  {
    id: 'CPH-ETCD-09',
    title: 'Data dir mode 700',
    severity: 'high',
    fix: 'chmod 700 <data-dir>',
    run: onEtcd(async (s, ctx) => {
      const dir = s.get('data-dir') ?? `${s.get('name') ?? 'default'}.etcd`;
      const st = await ctx.host.stat(hostPathOf(ctx.etcd, dir));
      if (!st) return skip(`${s.ev('data-dir')}: ${dir} not found on this host`);
      return withinMode(st.mode, 0o700) ? pass(`${modeString(st)} ${dir}`) : fail(`${modeString(st)} ${dir}`);
    }),
  },
  {
    id: 'CPH-ETCD-10',
    title: 'Data dir owner',
    severity: 'low',
    fix: 'chown the data dir to the UID etcd runs as',
    run: onEtcd(async (s, ctx) => {
      const dir = s.get('data-dir') ?? `${s.get('name') ?? 'default'}.etcd`;
      const st = await ctx.host.stat(hostPathOf(ctx.etcd, dir));
      if (!st) return skip(`${s.ev('data-dir')}: ${dir} not found on this host`);
      // compared numerically: kubeadm runs etcd as root and has no etcd user (kubeadm#2931)
      const ev = `${modeString(st)} ${dir}, etcd runs as uid ${ctx.etcd!.uid}`;
      return st.uid === ctx.etcd!.uid ? pass(ev) : fail(ev);
    }),
  },
  {
    id: 'CPH-ETCD-11',
    title: 'etcd manifest/config mode and owner',
    severity: 'medium',
    fix: 'chmod 600 and chown root:root the etcd manifest and config file',
    run: onEtcd(async (s, ctx) => {
      const files = [ctx.etcd!.file];
      const cf = ctx.etcd!.flags.get('config-file');
      if (cf) files.push(hostPathOf(ctx.etcd, cf));
      const bad: string[] = [];
      const ok: string[] = [];
      for (const f of files) {
        const st = await ctx.host.stat(f);
        if (!st) continue;
        (withinMode(st.mode, 0o600) && st.uid === 0 && st.gid === 0 ? ok : bad).push(`${modeString(st)} ${f}`);
      }
      void s;
      return bad.length ? fail(bad.join('; ')) : ok.length ? pass(ok.join('; ')) : skip('cannot stat the etcd manifest');
    }),
  },
];
