/**
 * Live probes against etcd (optional): a scan of the stored Secrets/ConfigMaps with the apiserver's
 * client certificate (CPH-ENC-07: counts only, never values or object names) and a connection
 * attempt without a client certificate (CPH-ETCD-02 / CPH-ETCD-08: etcd must refuse it).
 */
import { buildTransformers, parseEncryptionConfig } from '../encryption/index.ts';
import { connectEtcd, type EtcdConnectOptions, type ScanReport, scan } from '../etcd/index.ts';
import type { CheckContext } from './context.ts';
import { hostPathOf } from './manifest.ts';
import type { Finding } from './types.ts';

export interface LiveOptions {
  /** default: the apiserver's --etcd-servers */
  endpoints?: string[];
  /** default: the apiserver's --etcd-cafile / --etcd-certfile / --etcd-keyfile (host paths) */
  cacert?: string;
  cert?: string;
  key?: string;
  /** host path of the EncryptionConfiguration used to classify values (default: the apiserver's) */
  encryptionConfig?: string;
  prefix?: string;
  resources?: string[];
  timeoutMs?: number;
}

const ENC07_FIX = 'rewrite all objects: arca etcd rewrite (or arca kms rotate) until arca etcd scan shows no plaintext or stale values';
const ETCD02_FIX = 'add --client-cert-auth=true and --trusted-ca-file=<etcd CA>';
const ETCD08_FIX = 'make every client URL https (keep plain HTTP only for --listen-metrics-urls=http://127.0.0.1:2381)';

function defaults(ctx: CheckContext, o: LiveOptions): EtcdConnectOptions & { encryptionConfig?: string } {
  const a = ctx.apiserver;
  const map = (p: string | undefined) => (p ? hostPathOf(a, p) : undefined);
  const r: EtcdConnectOptions & { encryptionConfig?: string } = { endpoints: o.endpoints ?? a?.flags.list('etcd-servers') ?? [] };
  const cacert = o.cacert ?? map(a?.flags.get('etcd-cafile'));
  const cert = o.cert ?? map(a?.flags.get('etcd-certfile'));
  const key = o.key ?? map(a?.flags.get('etcd-keyfile'));
  if (cacert) r.cacert = cacert;
  if (cert) r.cert = cert;
  if (key) r.key = key;
  const enc = o.encryptionConfig ?? map(a?.flags.get('encryption-provider-config'));
  if (enc) r.encryptionConfig = enc;
  r.timeoutMs = o.timeoutMs ?? 10_000;
  return r;
}

const IDENTITY_ONLY = 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, configmaps]\n  providers: [{identity: {}}]\n';

const why = (err: unknown) => (err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error');

async function scanFinding(ctx: CheckContext, c: ReturnType<typeof defaults>, o: LiveOptions): Promise<Finding> {
  const f = (status: Finding['status'], severity: Finding['severity'], evidence: string): Finding => ({ id: 'CPH-ENC-07', status, severity, evidence, fix: ENC07_FIX });
  if (!c.endpoints.length) return f('skip', 'high', 'no etcd endpoints (give --endpoints)');
  const text = c.encryptionConfig ? await ctx.host.read(c.encryptionConfig) : undefined;
  // Without the config every encrypted value is undecryptable, but plaintext is still plaintext.
  const config = parseEncryptionConfig(text ?? IDENTITY_ONLY);
  const t = buildTransformers(config, { kmsV1: true });
  let client: Awaited<ReturnType<typeof connectEtcd>> | undefined;
  try {
    client = await connectEtcd(c);
    const resources = o.resources ?? ['secrets', 'configmaps'];
    const r = await scan(client, t, { prefix: o.prefix ?? '/registry/', resources });
    return scanVerdict(r, `live scan of ${c.endpoints.join(',')} (${resources.join(',')})`, text !== undefined);
  } catch (err) {
    return f('warn', 'high', `live scan failed: ${why(err)}`);
  } finally {
    t.close();
    client?.close();
  }
}

/** CPH-ENC-07 from a scan report: counts per resource and state, never values or object names. */
export function scanVerdict(r: Pick<ScanReport, 'total' | 'byState' | 'byResource'>, where: string, haveConfig: boolean): Finding {
  const f = (status: Finding['status'], severity: Finding['severity'], evidence: string): Finding => ({ id: 'CPH-ENC-07', status, severity, evidence, fix: ENC07_FIX });
  const per = Object.entries(r.byResource)
    .map(([res, s]) => `${res}: ${s.plaintext} plaintext, ${s.current} current, ${s.stale} stale, ${s.undecryptable} undecryptable`)
    .join('; ');
  const ev = `${where}: ${r.total} values${per ? `; ${per}` : ''}`;
  if ((r.byResource['secrets']?.plaintext ?? 0) > 0) return f('fail', 'high', ev);
  if (r.byState.plaintext > 0) return f('fail', 'medium', ev);
  if (r.byState.stale > 0 || r.byState.undecryptable > 0) return f('warn', 'medium', `${ev}${haveConfig ? '' : ' (no encryption config: cannot tell current from stale)'}`);
  return f('pass', 'high', ev);
}

/** Tries to read from etcd as a client without a certificate. */
async function noCertProbe(c: ReturnType<typeof defaults>): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const ep of c.endpoints) {
    const plain = ep.startsWith('http://');
    const probe: EtcdConnectOptions = { endpoints: [ep], timeoutMs: c.timeoutMs ?? 10_000 };
    if (!plain && c.cacert) probe.cacert = c.cacert;
    let accepted = false;
    let reason = '';
    const client = await connectEtcd(probe);
    try {
      await client.get('/registry/health-probe-arca').string();
      accepted = true;
    } catch (err) {
      reason = why(err);
    } finally {
      client.close();
    }
    if (plain) {
      out.push({
        id: 'CPH-ETCD-08',
        status: accepted ? 'fail' : 'warn',
        severity: 'critical',
        evidence: accepted ? `live: ${ep} answers plaintext without any credential` : `live: ${ep} (http) did not answer: ${reason}`,
        fix: ETCD08_FIX,
      });
    } else {
      out.push({
        id: 'CPH-ETCD-02',
        status: accepted ? 'fail' : 'pass',
        severity: 'critical',
        evidence: accepted ? `live: ${ep} served a read to a client without a certificate` : `live: ${ep} refused a client without a certificate (${reason})`,
        fix: ETCD02_FIX,
      });
    }
  }
  return out;
}

/** Runs the live probes and records their findings in the context (runChecks merges them). */
export async function liveChecks(ctx: CheckContext, o: LiveOptions = {}): Promise<Finding[]> {
  const c = defaults(ctx, o);
  const found = [await scanFinding(ctx, c, o), ...(await noCertProbe(c))];
  ctx.live.push(...found);
  return found;
}
