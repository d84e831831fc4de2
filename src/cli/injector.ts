/**
 * `arca injector`: the mutating admission webhook that adds `arca agent` to opted-in pods
 * (docs/injector.md), and `arca injector certs` for its serving certificate and caBundle. Runs in
 * the cluster; never loads the server, fastify or the UI (the injector module is imported in the
 * action).
 */
import type { Command } from 'commander';
import { isArcaError } from '../errors/index.ts';
import { parseDuration } from '../units/index.ts';
import { UsageError } from './exit.ts';

interface ServeFlags {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  arcaAddr?: string;
  agentImage?: string;
  audience: string;
  authMount: string;
  tokenExpiry: string;
  caConfigmap?: string;
  agentUid: string;
  shutdownDelay: string;
  cacheEntries: string;
  defaultSidecar: string;
}

interface CertFlags {
  service: string;
  namespace: string;
  outDir: string;
  days: string;
  dns: string[];
  ip: string[];
}

function duration(v: string, flag: string, min: number, unit: 'ms' | 's'): number {
  try {
    return parseDuration(v, { field: flag, unit, min });
  } catch (err) {
    if (isArcaError(err)) throw new UsageError(err.message);
    throw err;
  }
}

/** `:8443`, `0.0.0.0:8443`, `[::]:8443` or `8443`. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UsageError('--listen must be [HOST]:PORT, e.g. :8443');
  return { host: (m[1] || '0.0.0.0').replace(/^\[|\]$/g, ''), port };
}

async function serve(o: ServeFlags): Promise<void> {
  if (!o.tlsCert || !o.tlsKey) throw new UsageError('--tls-cert and --tls-key are required (arca injector certs creates them)');
  const arcaAddr = o.arcaAddr ?? process.env['ARCA_ADDR'];
  if (!arcaAddr) throw new UsageError('--arca-addr (or ARCA_ADDR) is required: the Arca URL pods reach, e.g. https://arca.arca-system.svc:8200');
  try {
    const u = new URL(arcaAddr);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new UsageError('--arca-addr must be an http(s) URL');
  }
  if (!o.agentImage) throw new UsageError('--agent-image is required: the image holding arca (and its env-mode bundle), e.g. registry.example.dev/arca:0.1.0');
  const uid = Number(o.agentUid);
  if (!Number.isInteger(uid) || uid < 1 || uid > 2 ** 31 - 1) throw new UsageError('--agent-uid must be a non-root uid');
  const cacheEntries = Number(o.cacheEntries);
  if (!Number.isInteger(cacheEntries) || cacheEntries < 0 || cacheEntries > 100_000) throw new UsageError('--cache-entries must be an integer from 0 to 100000');
  if (o.defaultSidecar !== 'native' && o.defaultSidecar !== 'classic') throw new UsageError('--default-sidecar must be native or classic');
  const { host, port } = parseListen(o.listen);
  const tokenExpirySeconds = duration(o.tokenExpiry, '--token-expiry', 600, 's');
  const shutdownDelayMs = duration(o.shutdownDelay, '--shutdown-delay', 0, 'ms');
  const [{ startInjectorServer, InjectorMetrics }, { createLogger }] = await Promise.all([import('../k8s/injector/index.ts'), import('../log/index.ts')]);
  const log = createLogger().child({ component: 'injector' });
  const server = await startInjectorServer({
    host,
    port,
    certFile: o.tlsCert,
    keyFile: o.tlsKey,
    log,
    metrics: new InjectorMetrics(),
    shutdownDelayMs,
    cacheEntries,
    injector: {
      arcaAddr,
      agentImage: o.agentImage,
      audience: o.audience,
      authMount: o.authMount,
      tokenExpirySeconds,
      caConfigMap: o.caConfigmap,
      defaultRunAsUser: uid,
      defaultSidecar: o.defaultSidecar,
    },
  });
  log.info({ host, port: server.port }, 'injector listening');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info({ delayMs: shutdownDelayMs }, 'injector shutting down');
  await server.close();
  log.info('injector stopped');
}

async function certs(o: CertFlags): Promise<void> {
  const days = Number(o.days);
  if (!Number.isInteger(days)) throw new UsageError('--days must be a whole number');
  const { createCerts, writeCerts } = await import('../k8s/injector/index.ts');
  let set: Awaited<ReturnType<typeof createCerts>>;
  try {
    set = await createCerts({ service: o.service, namespace: o.namespace, days, dns: o.dns, ips: o.ip });
  } catch (err) {
    if (isArcaError(err) && (err.code === 'ERR_INVALID_REQUEST' || err.code === 'ERR_FIELD_OUT_OF_RANGE')) throw new UsageError(err.message);
    throw err;
  }
  const files = await writeCerts(o.outDir, set);
  process.stderr.write(`wrote ${files.join(', ')}\ncaBundle for the MutatingWebhookConfiguration (stdout):\n`);
  process.stdout.write(`${set.caBundle}\n`);
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(cmd: Command): void {
  cmd
    .description('serve the mutating admission webhook that injects arca agent into opted-in pods')
    .option('--listen <[host]:port>', 'address to serve HTTPS on', ':8443')
    .option('--tls-cert <file>', 'serving certificate (PEM); reloaded when the file changes')
    .option('--tls-key <file>', 'serving key (PEM); reloaded when the file changes')
    .option('--arca-addr <url>', 'Arca server URL as pods reach it (default $ARCA_ADDR)')
    .option('--agent-image <image>', 'image of the injected agent (annotation arca.dev/agent-image overrides)')
    .option('--audience <aud>', 'audience of the projected service-account token (the role must require it)', 'arca')
    .option('--auth-mount <path>', 'Kubernetes auth mount under auth/ (annotation arca.dev/auth-mount overrides)', 'kubernetes')
    .option('--token-expiry <duration>', 'lifetime of the projected token (Kubernetes minimum 10m)', '10m')
    .option('--ca-configmap <name>', "ConfigMap (key ca.crt, in the pod's namespace) with the CA of Arca's serving certificate")
    .option('--default-sidecar <kind>', 'sidecar kind when a pod does not set arca.dev/sidecar: native (Kubernetes >= 1.29) or classic', 'native')
    .option('--agent-uid <uid>', "agent uid when the pod names no non-root user (the agent runs as the app's user otherwise)", '65532')
    .option('--shutdown-delay <duration>', 'on SIGTERM, how long /readyz fails before the listener closes', '5s')
    .option('--cache-entries <n>', 'answers remembered (reviews differing only in uid, identical pods of one template); 0 disables', '256')
    .action((o: ServeFlags) => serve(o));
  cmd
    .command('certs')
    .description('create a CA and a serving certificate for the webhook Service; prints the caBundle')
    .option('--service <name>', 'webhook Service name', 'arca-injector')
    .option('--namespace <ns>', 'namespace of the Service', 'arca-system')
    .option('--out-dir <dir>', 'where to write ca.crt, tls.crt and tls.key', '.')
    .option('--days <n>', 'validity in days', '365')
    .option('--dns <name>', 'extra DNS SAN (repeatable)', collect, [])
    .option('--ip <addr>', 'extra IP SAN (repeatable)', collect, [])
    .action((o: CertFlags) => certs(o));
}
