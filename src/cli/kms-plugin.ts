/**
 * `arca kms-plugin`: the Kubernetes KMS v2 (+ v1beta1) plugin on a unix socket. Runs beside
 * kube-apiserver; reaches the Arca server only through src/client (remote mode) or a PKCS#11 token
 * on the node (local HSM mode). Never loads the server, fastify or the UI.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ArcaClient } from '../client/index.ts';
import { nodeSegment, pluginSummary, sendReport, validCluster } from '../k8s/report/index.ts';
import type { Command } from 'commander';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { createLogger } from '../log/index.ts';
import {
  HsmKeySource,
  type KeySource,
  createKmsServer,
  KmsPluginService,
  type KmsServer,
  PluginMetrics,
  RemoteKeySource,
  rotateHsmKey,
  socketPath,
} from '../kms-plugin/index.ts';
import { Pkcs11Hsm } from '../keys/pkcs11/index.ts';
import { parseDuration } from '../units/index.ts';
import { UsageError } from './exit.ts';

interface Opts {
  listen?: string;
  key?: string;
  mount: string;
  addr?: string;
  tokenFile?: string;
  cacert?: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11PinFile?: string;
  pkcs11KeyLabel?: string;
  pkcs11Rotate?: boolean;
  healthInterval: string;
  cacheSize: string;
  cacheTtl: string;
  requestTimeout: string;
  metricsListen?: string;
  transport: string;
  reportInterval?: string;
  cluster?: string;
  reportMount: string;
}

/** A positive duration flag (`500ms`, `5s`, `2m`, `1h`, or a plain number of milliseconds), in ms. */
function durationFlag(v: string, flag: string): number {
  try {
    return parseDuration(v, { field: flag, unit: 'ms', min: 1 });
  } catch (err) {
    if (isArcaError(err)) throw new UsageError(err.message);
    throw err;
  }
}

function readSecretFile(path: string, what: string): string {
  try {
    const v = readFileSync(path, 'utf8').trim();
    if (!v) throw new UsageError(`${what} file ${path} is empty`);
    return v;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new ArcaError('ERR_CONFIG_READ', `cannot read ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function hsmOptions(o: Opts) {
  if (!o.pkcs11Token) throw new UsageError('--pkcs11-token is required with --pkcs11-module');
  if (!o.pkcs11PinFile) throw new UsageError('--pkcs11-pin-file is required with --pkcs11-module');
  const keyLabel = o.pkcs11KeyLabel ?? o.key;
  if (!keyLabel) throw new UsageError('--pkcs11-key-label (or --key) is required with --pkcs11-module');
  return { module: o.pkcs11Module!, tokenLabel: o.pkcs11Token, pin: readSecretFile(o.pkcs11PinFile, 'PIN'), keyLabel };
}

async function buildSource(o: Opts, timeoutMs: number): Promise<KeySource> {
  if (o.pkcs11Module) return HsmKeySource.open(hsmOptions(o));
  if (!o.key) throw new UsageError('--key is required (the transit key that protects the local KEK)');
  const addr = o.addr ?? process.env['ARCA_ADDR'];
  if (!addr) throw new UsageError('--addr (or ARCA_ADDR) is required in remote mode');
  const token = process.env['ARCA_TOKEN'];
  if (!o.tokenFile && !token) throw new UsageError('--token-file (or ARCA_TOKEN) is required in remote mode');
  return new RemoteKeySource({
    addr,
    key: o.key,
    mount: o.mount,
    timeoutMs,
    ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}),
    ...(token ? { token } : {}),
    ...((o.cacert ?? process.env['ARCA_CACERT']) ? { caCert: (o.cacert ?? process.env['ARCA_CACERT'])! } : {}),
  });
}

async function run(o: Opts): Promise<void> {
  if (o.pkcs11Rotate) {
    if (!o.pkcs11Module) throw new UsageError('--pkcs11-rotate needs --pkcs11-module');
    const h = hsmOptions(o);
    const hsm = await Pkcs11Hsm.open(h);
    try {
      process.stdout.write(`${await rotateHsmKey(hsm, h.keyLabel)}\n`);
    } finally {
      await hsm.close();
    }
    return;
  }
  if (!o.listen) throw new UsageError('--listen unix:///path/to/kms.sock is required');
  if (o.reportInterval && !validCluster(o.cluster ?? '')) throw new UsageError('--report-interval needs --cluster NAME (letters, digits, ".", "_", "-")');
  if (o.reportInterval && !(o.addr ?? process.env['ARCA_ADDR'])) throw new UsageError('--report-interval needs --addr (or ARCA_ADDR)');
  if (o.transport !== 'http2' && o.transport !== 'grpc-js') throw new UsageError('--transport must be http2 or grpc-js');
  let path: string;
  try {
    path = socketPath(o.listen);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const healthIntervalMs = durationFlag(o.healthInterval, '--health-interval');
  const timeoutMs = durationFlag(o.requestTimeout, '--request-timeout');
  const cacheSize = Number(o.cacheSize);
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw new UsageError('--cache-size must be a non-negative integer');
  const log = createLogger().child({ component: 'kms-plugin' });
  const metrics = new PluginMetrics();
  const source = await buildSource(o, timeoutMs);
  const service = new KmsPluginService(source, {
    healthIntervalMs,
    cacheSize,
    cacheTtlMs: durationFlag(o.cacheTtl, '--cache-ttl'),
    log,
    observer: metrics,
  });
  // The first check runs before serving so the first Status is meaningful; a failure is not fatal
  // (the apiserver starts anyway and the loop keeps retrying).
  await service.start();
  const opts = { socketPath: path, service, log, metrics };
  const server: KmsServer = await createKmsServer(o.transport === 'grpc-js' ? 'grpc-js' : 'http2', opts);
  await server.listen();
  const stopReports = o.reportInterval ? startReports(o, durationFlag(o.reportInterval, '--report-interval'), () => service.status(), service.description, log) : undefined;
  const metricsServer = o.metricsListen ? await metrics.listen(o.metricsListen) : undefined;
  log.info({ socket: path, transport: o.transport, source: service.description, metricsPort: metricsServer?.port, healthz: service.status().healthz }, 'kms plugin listening');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'kms plugin shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  stopReports?.();
  await server.close();
  await metricsServer?.close();
  await service.stop();
  log.info('kms plugin stopped');
}

/**
 * Sends the plugin's key_id and health to the server every interval (posture reports). A failed
 * send is logged and retried next time: reporting must never affect serving.
 */
function startReports(o: Opts, intervalMs: number, status: () => { version: string; healthz: string; keyId: string }, source: string, log: ReturnType<typeof createLogger>): () => void {
  const addr = o.addr ?? process.env['ARCA_ADDR'];
  const target = { mount: o.reportMount, cluster: o.cluster ?? '' };
  const node = nodeSegment(hostname());
  const send = async () => {
    const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : process.env['ARCA_TOKEN'];
    const ca = o.cacert ?? process.env['ARCA_CACERT'];
    const client = new ArcaClient({ ...(addr ? { addr } : {}), ...(token ? { token } : {}), ...(ca ? { caCert: ca } : {}), timeoutMs: 5000 });
    try {
      await sendReport(client, target, `kms-plugin.${node}`, pluginSummary(status(), node, source));
    } catch (err) {
      log.warn({ code: (err as { code?: string }).code ?? 'error' }, 'posture report not sent');
    } finally {
      client.close();
    }
  };
  void send();
  const timer = setInterval(() => void send(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function register(cmd: Command): void {
  cmd
    .description('serve the Kubernetes KMS v2 (and v1beta1) plugin API on a unix socket')
    .option('--listen <unix-url>', 'socket to serve, e.g. unix:///var/run/arca/kms.sock')
    .option('--key <name>', 'transit key protecting the local KEK (remote mode)')
    .option('--mount <path>', 'transit mount path', 'transit')
    .option('--addr <url>', 'Arca server address (default $ARCA_ADDR)')
    .option('--token-file <file>', 'file holding the token; re-read when it changes (default $ARCA_TOKEN)')
    .option('--cacert <file>', 'CA certificate to verify the server (default $ARCA_CACERT)')
    .option('--pkcs11-module <path>', 'PKCS#11 library: local HSM mode instead of the server')
    .option('--pkcs11-token <label>', 'token label')
    .option('--pkcs11-pin-file <file>', 'file holding the user PIN')
    .option('--pkcs11-key-label <label>', 'key label; versions are <label>/v1, <label>/v2, … (default --key)')
    .option('--pkcs11-rotate', 'create the next version of the HSM key, print its key_id and exit')
    .option('--health-interval <duration>', 'how often to refresh the key and do a real round trip', '5s')
    .option('--cache-size <n>', 'max cached decrypted seeds (0 disables)', '10000')
    .option('--cache-ttl <duration>', 'how long a decrypted seed or unwrapped KEK stays cached', '1h')
    .option('--request-timeout <duration>', 'per request to the Arca server (keep under the apiserver timeout of 3s)', '2s')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://host:port/metrics')
    .option('--report-interval <duration>', 'send key_id and health to the server this often (posture report; needs --cluster)')
    .option('--cluster <name>', 'cluster name for posture reports: <report-mount>/data/<cluster>/kms-plugin.<node>')
    .option('--report-mount <path>', 'KV v2 mount that holds posture reports', 'posture')
    .option('--transport <name>', 'gRPC server: http2 (thin unary server on node:http2) or grpc-js', 'http2')
    .action(run);
}
