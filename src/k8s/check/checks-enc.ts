/** CPH-ENC-01…07: encryption at rest as configured on the apiserver. */
import { createHash } from 'node:crypto';
import { type EncryptionConfiguration, type ProviderConfig, type ResourceConfig, parseEncryptionConfig } from '../encryption/index.ts';
import { type CheckDef, NO_APISERVER, type Verdict, fail, pass, skip } from './check-def.ts';
import type { CheckContext } from './context.ts';
import { modeString, withinMode } from './host.ts';
import { hostPathOf } from './manifest.ts';

const FLAG = 'encryption-provider-config';

interface Loaded {
  flagPath: string;
  hostPath: string;
  text?: string;
  config?: EncryptionConfiguration;
  parseError?: string;
}

const cache = new WeakMap<CheckContext, Promise<Loaded | undefined>>();

/** The apiserver's encryption config, mapped to the host and parsed (once per run). */
export function encryptionConfig(ctx: CheckContext): Promise<Loaded | undefined> {
  let p = cache.get(ctx);
  if (!p) {
    p = (async () => {
      const f = ctx.apiserver?.flags;
      const flagPath = f?.get(FLAG) ?? f?.get(`experimental-${FLAG}`);
      if (!flagPath) return undefined;
      const hostPath = hostPathOf(ctx.apiserver, flagPath);
      const l: Loaded = { flagPath, hostPath };
      const text = await ctx.host.read(hostPath);
      if (text === undefined) return l;
      l.text = text;
      try {
        l.config = parseEncryptionConfig(text);
      } catch (err) {
        // the code only: parser messages may echo file content, which can hold key material
        l.parseError = (err as { code?: string }).code ?? 'parse error';
      }
      return l;
    })();
    cache.set(ctx, p);
  }
  return p;
}

/** The resources[] entry kube-apiserver uses for a resource: exact ▸ `*.` ▸ `*.*`, first in file order. */
export function entryFor(c: EncryptionConfiguration, resource: string): ResourceConfig | undefined {
  for (const names of [[resource, `${resource}.`], ['*.'], ['*.*']]) {
    const e = c.resources.find((r) => r.resources.some((x) => names.includes(x)));
    if (e) return e;
  }
  return undefined;
}

export function providerKind(p: ProviderConfig | undefined): string {
  if (!p) return 'none';
  if (p.kms) return `kms ${p.kms.apiVersion}`;
  return Object.keys(p)[0] ?? 'none';
}

const encrypting = (p: ProviderConfig | undefined) => p !== undefined && !p.identity;

async function withConfig(ctx: CheckContext, f: (c: EncryptionConfiguration, l: Loaded) => Verdict | Promise<Verdict>): Promise<Verdict> {
  if (!ctx.apiserver) return skip(NO_APISERVER);
  const l = await encryptionConfig(ctx);
  if (!l) return fail(`${ctx.apiserver.flags.ev(FLAG)}: every resource is stored with identity`);
  if (!l.config) return skip(`${l.hostPath}: ${l.text === undefined ? 'not readable' : `does not parse (${l.parseError})`}; see CPH-ENC-01`);
  return f(l.config, l);
}

export const ENC_CHECKS: CheckDef[] = [
  {
    id: 'CPH-ENC-01',
    title: '--encryption-provider-config set',
    severity: 'high',
    fix: 'create the EncryptionConfiguration, mount it read-only (hostPath) and set --encryption-provider-config on every apiserver',
    async run(ctx) {
      if (!ctx.apiserver) return skip(NO_APISERVER);
      const l = await encryptionConfig(ctx);
      if (!l) return fail(ctx.apiserver.flags.ev(FLAG));
      const at = `${ctx.apiserver.flags.ev(FLAG)} (host ${l.hostPath})`;
      if (l.text === undefined) return fail(`${at}: file not readable`);
      if (!l.config) return fail(`${at}: does not parse as EncryptionConfiguration (${l.parseError})`);
      return pass(`${at}: ${l.config.apiVersion} ${l.config.kind}`);
    },
  },
  {
    id: 'CPH-ENC-02',
    title: 'Secrets are written with an encrypting provider',
    severity: 'critical',
    fix: 'put the encrypting provider first for secrets, reload all apiservers, then rewrite every Secret (arca etcd rewrite)',
    run: (ctx) =>
      withConfig(ctx, (c, l) => {
        const e = entryFor(c, 'secrets');
        if (!e) return fail(`${l.hostPath}: no resources[] entry matches secrets`);
        const first = providerKind(e.providers[0]);
        const ev = `${l.hostPath}: secrets → [${e.resources.join(',')}] first provider ${first}`;
        return encrypting(e.providers[0]) ? pass(ev) : fail(ev);
      }),
  },
  {
    id: 'CPH-ENC-03',
    title: 'Provider strength',
    severity: 'medium',
    fix: 'migrate to KMS v2 (arca kms-plugin) and rewrite objects',
    run: (ctx) =>
      withConfig(ctx, (c, l) => {
        const e = entryFor(c, 'secrets');
        const p = e?.providers[0];
        const ev = `${l.hostPath}: first provider for secrets is ${providerKind(p)}`;
        if (!p || p.identity) return skip(`${ev}; reported by CPH-ENC-02`);
        if (p.kms) return p.kms.apiVersion === 'v2' ? pass(ev) : fail(`${ev} (deprecated 1.28, needs KMSv1=true since 1.29)`, 'high');
        if (p.secretbox) return pass(`${ev} (info: key material is on the control-plane host)`);
        if (p.aesgcm) return fail(`${ev} (random 96-bit nonces: rotate every 200,000 writes; key on host)`, 'medium');
        return fail(`${ev} (CBC: padding-oracle prone, no integrity; key on host)`, 'medium');
      }),
  },
  {
    id: 'CPH-ENC-04',
    title: 'ConfigMaps covered',
    severity: 'medium',
    fix: 'add configmaps (or *.* with events opted out before it) to an entry whose first provider encrypts',
    run: (ctx) =>
      withConfig(ctx, (c, l) => {
        const e = entryFor(c, 'configmaps');
        if (!e) return fail(`${l.hostPath}: no resources[] entry matches configmaps (stored as identity)`);
        const ev = `${l.hostPath}: configmaps → [${e.resources.join(',')}] first provider ${providerKind(e.providers[0])}`;
        return encrypting(e.providers[0]) ? pass(ev) : fail(ev);
      }),
  },
  {
    id: 'CPH-ENC-05',
    title: 'Encryption config file and KMS socket protected',
    severity: 'high',
    fix: 'chown root:root enc.yaml && chmod 600 enc.yaml; parent directory and KMS socket not group/world writable',
    run: (ctx) =>
      withConfig(ctx, async (c, l) => {
        const bad: string[] = [];
        const ok: string[] = [];
        const st = await ctx.host.stat(l.hostPath);
        if (!st) return skip(`${l.hostPath}: cannot stat`);
        (withinMode(st.mode, 0o600) && st.uid === 0 && st.gid === 0 ? ok : bad).push(`${modeString(st)} ${l.hostPath}`);
        const dir = l.hostPath.replace(/\/[^/]*$/, '') || '/';
        const ds = await ctx.host.stat(dir);
        if (ds) ((ds.mode & 0o022) === 0 ? ok : bad).push(`${modeString(ds)} ${dir}`);
        for (const r of c.resources) {
          for (const p of r.providers) {
            if (!p.kms?.endpoint.startsWith('unix://')) continue;
            const sock = hostPathOf(ctx.apiserver, p.kms.endpoint.slice('unix://'.length));
            const ss = await ctx.host.stat(sock);
            if (!ss) continue; // plugin not running here: nothing to judge
            ((ss.mode & 0o002) === 0 ? ok : bad).push(`${modeString(ss)} ${sock}`);
          }
        }
        return bad.length ? fail(bad.join('; ')) : pass(ok.join('; '));
      }),
  },
  {
    id: 'CPH-ENC-06',
    title: 'Same encryption config on every apiserver',
    severity: 'high',
    fix: 'distribute one file to every apiserver; rotate with add-key / promote / rewrite / remove steps',
    async run(ctx) {
      if (!ctx.apiserver) return skip(NO_APISERVER);
      const l = await encryptionConfig(ctx);
      if (!l?.text) return skip('no local encryption config to compare (see CPH-ENC-01)');
      if (!ctx.peerEncryptionConfigs.length) return skip('no other apiserver config given (--peer-encryption-config FILE, repeatable)');
      const h = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 12);
      const mine = h(l.text);
      const all = [`${l.hostPath} ${mine}`, ...ctx.peerEncryptionConfigs.map((p) => `${p.name} ${h(p.text)}`)];
      return ctx.peerEncryptionConfigs.every((p) => h(p.text) === mine) ? pass(all.join('; ')) : fail(all.join('; '));
    },
  },
  {
    id: 'CPH-ENC-07',
    title: 'Stored data actually encrypted (etcd scan)',
    severity: 'high',
    fix: 'rewrite all objects: arca etcd rewrite (or arca kms rotate) until arca etcd scan shows no plaintext or stale values',
    run(ctx) {
      // replaced by the live scan's finding when --live ran (see run.ts)
      return skip(ctx.apiserver ? 'live check not run (give --live with etcd connection flags)' : NO_APISERVER);
    },
  },
];
