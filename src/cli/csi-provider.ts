/**
 * `arca csi-provider`: the Secrets Store CSI Driver provider (`v1alpha1.CSIDriverProvider`) on a
 * unix socket, one process per node. It holds no credential of its own: each Mount logs in with
 * the pod's service-account token for the SecretProviderClass's `audience` and reaches the Arca
 * server only through src/client. Never loads the server, fastify or the UI.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { ClientPool, CsiMetrics, CsiProviderServer, LoginCache } from '../k8s/csi/index.ts';
import { socketPath } from '../grpc/index.ts';
import { createLogger } from '../log/index.ts';
import { parseDuration } from '../units/index.ts';
import { UsageError } from './exit.ts';

interface Opts {
  endpoint: string;
  arcaAddr?: string;
  cacert?: string;
  hmacKeyFile?: string;
  requestTimeout: string;
  metricsListen?: string;
  loginCache: boolean;
}

/** ≥ 32 bytes from a file (e.g. a mounted Kubernetes Secret), so versions survive restarts and agree across nodes. */
function versionKey(file: string | undefined): Uint8Array {
  if (!file) return randomBytes(32);
  let k: Buffer;
  try {
    k = readFileSync(file);
  } catch (err) {
    throw new ArcaError('ERR_CONFIG_READ', `cannot read --hmac-key-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (k.length < 32) throw new UsageError('--hmac-key-file must hold at least 32 bytes');
  return k;
}

/** A flag check whose coded error is a usage error (exit 1). */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isArcaError(err)) throw new UsageError(err.message.replace('--listen', '--endpoint'));
    throw err;
  }
}

async function run(o: Opts): Promise<void> {
  const path = usage(() => socketPath(o.endpoint));
  const timeoutMs = usage(() => parseDuration(o.requestTimeout, { field: '--request-timeout', unit: 'ms', min: 1 }));
  const log = createLogger().child({ component: 'csi-provider' });
  const metrics = new CsiMetrics();
  const addr = o.arcaAddr ?? process.env['ARCA_ADDR'];
  const caCert = o.cacert ?? process.env['ARCA_CACERT'];
  const clients = new ClientPool({ timeoutMs, ...(addr ? { addr } : {}), ...(caCert ? { caCert } : {}) });
  const server = new CsiProviderServer({ socketPath: path, clients, versionKey: versionKey(o.hmacKeyFile), log, metrics, ...(o.loginCache ? { logins: new LoginCache() } : {}) });
  await server.listen();
  const metricsServer = o.metricsListen ? await metrics.listen(o.metricsListen) : undefined;
  log.info({ socket: path, arcaAddr: addr, metricsPort: metricsServer?.port, loginCache: o.loginCache }, 'csi provider listening');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'csi provider shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await server.close();
  await metricsServer?.close();
  log.info('csi provider stopped');
}

export function register(cmd: Command): void {
  cmd
    .description('serve the Secrets Store CSI Driver provider API (v1alpha1) on a unix socket')
    .option('--endpoint <unix-url>', 'socket to serve; the file name must be <SecretProviderClass.spec.provider>.sock', 'unix:///var/run/secrets-store-csi-providers/arca.sock')
    .option('--arca-addr <url>', 'Arca server address when a SecretProviderClass sets no arcaAddress (default $ARCA_ADDR)')
    .option('--cacert <file>', 'CA certificate to verify the server when a class sets no arcaCACertPath (default $ARCA_CACERT)')
    .option('--hmac-key-file <file>', 'key for object versions (≥ 32 bytes); default: random per process')
    .option('--request-timeout <duration>', 'per request to the Arca server', '10s')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://host:port/metrics')
    .option('--no-login-cache', 'log in on every Mount (default: reuse the Arca token of the same pod token and role, within 2/3 of its TTL)')
    .action(run);
}
