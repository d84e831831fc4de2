/**
 * The fastify adapter: Vault's HTTP shapes on top of the core. It turns HTTP into LogicalRequests and
 * LogicalResponses into Vault's envelope; it authorizes nothing itself (the core does, centrally).
 * Request mapping, body parsing and response building live in request-map.ts, body.ts, response.ts.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { ArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Core } from '../core/index.ts';
import { fromThrown, logServerError, sendError } from './errors.ts';
import { listMethodHandler } from './list-method.ts';
import { HttpMetrics, mountLabel, registerMetricsRoute } from './metrics.ts';
import { requestIdGenerator } from './request-id.ts';
import { mapRequest, tokenOf, wrapTtlOf } from './request-map.ts';
import { LOGIN_PATH, peerChain } from './tls-peer.ts';
import { sendLogical } from './response.ts';
import { ARCA_VERSION, registerRawSys } from './sys-raw.ts';
import { registerUi } from './ui-static.ts';

export interface HttpOptions {
  core: Core;
  log: Logger;
  tls?: { certFile: string; keyFile: string } | undefined;
  ha?: () => { enabled: boolean; active: boolean; leaderAddress: string; activeSince: Date | undefined };
  /** Called for every logical request before the core (HA forwarding hooks in here). */
  forward?: (req: FastifyRequest) => Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
  /** HA: give up the active role (sys/step-down). */
  stepDown?: () => Promise<void>;
  /** HA: the replicas with a live heartbeat, the active first (sys/ha-status); without HA the server lists itself. */
  members?: () => Promise<{ id: string; apiAddr: string; active: boolean; lastEcho: Date | undefined }[]>;
  /** How this server is reached, for its own sys/ha-status row without HA. */
  apiAddr?: string;
  leaderAddress?: () => Promise<string>;
  /** HA: resolves the client address a standby forwarded for (authenticated), if any. */
  clientAddr?: (req: FastifyRequest) => Promise<string | undefined>;
  /** The web UI at /ui/: `false` disables it; a directory overrides the built `dist/ui`. */
  ui?: false | { dir?: string | undefined };
}

const MAX_BODY = 32 * 1024 * 1024;
const NO_HA = { enabled: false, active: true, leaderAddress: '', activeSince: undefined };

function createApp(o: HttpOptions, log: Logger): FastifyInstance {
  // Client certificates are requested, never required, and not verified by TLS: auth/cert checks
  // them against its roles (Vault's default tls_disable_client_certs=false behaviour).
  const https = o.tls ? { key: readFileSync(o.tls.keyFile), cert: readFileSync(o.tls.certFile), requestCert: true, rejectUnauthorized: false } : null;
  let built: FastifyInstance | undefined;
  const app = Fastify({
    clientErrorHandler: listMethodHandler(() => built!),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY,
    genReqId: requestIdGenerator(),
    // One logger for all requests: a redacting pino child per request costs ~2-3% of a read.
    childLoggerFactory: (logger) => logger,
    // Router-level failures (a URL that does not decode) answer in the one error shape too.
    frameworkErrors: (err, req, reply) => {
      void sendError(reply, fromThrown(err), req.id);
    },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  built = app;
  return app;
}

/** Hooks and handlers every route shares: headers, metrics, errors, 404s, body capture. */
function installCommon(app: FastifyInstance, o: HttpOptions, log: Logger, metrics: HttpMetrics): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));
  // Synchronous: an async hook costs a promise and a microtask hop per request.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('cache-control', 'no-store');
    const ns = req.headers['x-vault-namespace'];
    if (typeof ns === 'string') reply.header('x-vault-namespace', ns);
    // `Content-Type:` with no value is no type at all (Vault reads the body as JSON regardless).
    if (req.headers['content-type'] === '') delete req.headers['content-type'];
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.record(req.method, mountLabel(req.url, o.core), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler((err, req, reply) => {
    const e = fromThrown(err);
    logServerError(log, req.id, e);
    return sendError(reply, e, req.id);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new ArcaError('ERR_NOT_FOUND', 'no handler for this method and URL: the API is served under /v1/ with GET, LIST, PUT, POST, PATCH and DELETE'), req.id));
}

/** `/v1/*`: map → (forward) → core → Vault's shapes. */
function logicalHandler(o: HttpOptions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const m = mapRequest(req.method, req.url, req.headers, req.body as Buffer | undefined);
    if (o.forward && !o.core.routes.isLocal(m.path)) {
      const fwd = await o.forward(req);
      if (fwd) return reply.code(fwd.status).headers(fwd.headers).send(fwd.body);
    }
    // Awaited only when HA resolves forwarded addresses: an await is a microtask hop per request.
    const clientAddr = o.clientAddr ? ((await o.clientAddr(req)) ?? req.ip) : req.ip;
    const tlsClientCerts = LOGIN_PATH.test(m.path) ? peerChain(req) : undefined;
    const wrapTtl = wrapTtlOf(req.headers);
    const res = await o.core.handle({
      id: req.id, operation: m.operation, path: m.path, data: m.data, token: tokenOf(req.headers), clientAddr,
      ...(tlsClientCerts ? { tlsClientCerts } : {}),
      ...(wrapTtl ? { wrapTtl } : {}),
    });
    return sendLogical(reply, res, req.id, m.path);
  };
}

/** Registers the adapter's own endpoints on the core (they run through its pipeline). */
function registerCoreRoutes(o: HttpOptions, metrics: HttpMetrics, ha: NonNullable<HttpOptions['ha']>): void {
  registerMetricsRoute(o.core, metrics, ha);
  o.core.routes.set('sys/step-down', { local: true, handlers: { update: async () => ({ after: async () => o.stepDown?.() }) } });
  // Vault's `vault operator members`: any replica answers from the shared database.
  o.core.routes.set('sys/ha-status', {
    local: true,
    handlers: {
      read: async () => {
        const members = o.members ? await o.members() : [{ id: 'arca', apiAddr: o.apiAddr ?? '', active: true, lastEcho: undefined }];
        // Vault's node shape; replicas report no version of their own, so each shows this server's.
        const nodes = members.map((m) => ({
          hostname: m.id, api_address: m.apiAddr, cluster_address: '', active_node: m.active, last_echo: m.lastEcho?.toISOString() ?? null,
          version: ARCA_VERSION, upgrade_version: ARCA_VERSION, redundancy_zone: '',
        }));
        return { data: { nodes } };
      },
    },
  });
}

/** Routes registered on each built app (method list and URL), for route enumeration in tests. */
const REGISTERED = new WeakMap<FastifyInstance, { methods: string[]; url: string }[]>();

/** Every fastify route the adapter registered (the logical routes behind `/v1/*` come from Core.listRoutes). */
export function httpRoutes(app: FastifyInstance): readonly { methods: string[]; url: string }[] {
  return REGISTERED.get(app) ?? [];
}

export function buildHttpServer(o: HttpOptions): FastifyInstance {
  const log = o.log.child({ component: 'http' });
  const app = createApp(o, log);
  const registered: { methods: string[]; url: string }[] = [];
  REGISTERED.set(app, registered);
  app.addHook('onRoute', (r) => {
    registered.push({ methods: [r.method].flat().map(String), url: r.url });
  });
  const metrics = new HttpMetrics();
  const ha = o.ha ?? (() => NO_HA);
  installCommon(app, o, log, metrics);
  registerCoreRoutes(o, metrics, ha);
  registerRawSys(app, { core: o.core, ha, clusterId: '', ...(o.forward ? { forward: o.forward } : {}), ...(o.leaderAddress ? { leaderAddress: o.leaderAddress } : {}) });
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v1/*', handler: logicalHandler(o) });
  if (o.ui !== false) registerUi(app, o.ui?.dir);
  return app;
}
