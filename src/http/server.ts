/**
 * The fastify adapter: Vault's HTTP shapes on top of the core. It turns HTTP into LogicalRequests and
 * LogicalResponses into Vault's envelope; it authorizes nothing itself (the core does, centrally).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { ArcaError, isArcaError, toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Core, LogicalRequest } from '../core/index.ts';
import { sendError } from './errors.ts';
import { listMethodHandler } from './list-method.ts';
import { HttpMetrics, mountLabel } from './metrics.ts';
import { registerRawSys } from './sys-raw.ts';

export interface HttpOptions {
  core: Core;
  log: Logger;
  tls?: { certFile: string; keyFile: string } | undefined;
  ha?: () => { enabled: boolean; active: boolean; leaderAddress: string; activeSince: Date | undefined };
  /** Called for every logical request before the core (HA forwarding hooks in here). */
  forward?: (req: FastifyRequest) => Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
  /** HA: give up the active role (sys/step-down). */
  stepDown?: () => Promise<void>;
  leaderAddress?: () => Promise<string>;
  /** HA: resolves the client address a standby forwarded for (authenticated), if any. */
  clientAddr?: (req: FastifyRequest) => Promise<string | undefined>;
}

const MAX_BODY = 32 * 1024 * 1024;

/** Routes whose `data` Vault copies to the top level of the envelope (old clients read it there). */
const INJECT_TOP = [/^sys\/audit(\/.*)?$/, /^sys\/audit-hash\/.+$/, /^sys\/auth(\/.*)?$/, /^sys\/capabilities(-self|-accessor)?$/, /^sys\/key-status$/, /^sys\/mounts(\/.*)?$/, /^sys\/policy(\/.*)?$/, /^sys\/rotate$/];

declare module 'fastify' {
  interface FastifyRequest {
    arcaId: string;
  }
}

export function buildHttpServer(o: HttpOptions): FastifyInstance {
  const https = o.tls ? { key: readFileSync(o.tls.keyFile), cert: readFileSync(o.tls.certFile) } : null;
  let built: FastifyInstance | undefined;
  const app = Fastify({
    clientErrorHandler: listMethodHandler(() => built!),
    loggerInstance: o.log.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY,
    genReqId: () => randomUUID(),
    // One logger for all requests: a redacting pino child per request costs ~2-3% of a read.
    childLoggerFactory: (logger) => logger,
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  built = app;
  const metrics = new HttpMetrics();
  const ha = o.ha ?? (() => ({ enabled: false, active: true, leaderAddress: '', activeSince: undefined }));

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    req.arcaId = req.id;
    reply.header('cache-control', 'no-store');
    const ns = req.headers['x-vault-namespace'];
    if (typeof ns === 'string') reply.header('x-vault-namespace', ns);
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.record(req.method, mountLabel((req.url.split('?')[0] ?? '').replace(/^\/v1\//, '')), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    let e: ArcaError;
    if (isArcaError(err)) e = err;
    else if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new ArcaError('ERR_PAYLOAD_TOO_LARGE', 'request body too large');
    else if ((err as { statusCode?: number }).statusCode === 400) e = new ArcaError('ERR_INVALID_REQUEST', 'malformed request');
    else e = toArcaError(err);
    if (e.code === 'ERR_INTERNAL' || e.code === 'ERR_BARRIER_DECRYPT') req.log.error({ requestId: req.id, err: e.cause ?? err }, 'request failed');
    return sendError(reply, e, req.id);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new ArcaError('ERR_NOT_FOUND', `no handler for route "${req.url}"`), req.id));

  const token = (req: FastifyRequest): string | undefined => {
    const v = req.headers['x-vault-token'];
    if (typeof v === 'string' && v !== '') return v;
    const a = req.headers.authorization;
    return typeof a === 'string' && a.startsWith('Bearer ') ? a.slice(7) : undefined;
  };

  const body = (req: FastifyRequest): Record<string, unknown> => {
    const buf = req.body as Buffer | undefined;
    if (!buf || buf.length === 0) return {};
    const text = buf.toString('utf8');
    const ct = String(req.headers['content-type'] ?? '');
    const first = text.trimStart()[0];
    if (ct.startsWith('application/x-www-form-urlencoded') && first !== '{' && first !== '[') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of new URLSearchParams(text)) out[k] = out[k] === undefined ? v : `${String(out[k])},${v}`;
      return out;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ArcaError('ERR_INVALID_REQUEST', 'error parsing JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ArcaError('ERR_INVALID_REQUEST', 'error parsing JSON');
    return parsed as Record<string, unknown>;
  };

  registerRawSys(app, { core: o.core, metrics, body, token, ha, clusterId: '', ...(o.forward ? { forward: o.forward } : {}), ...(o.stepDown ? { stepDown: o.stepDown } : {}), ...(o.leaderAddress ? { leaderAddress: o.leaderAddress } : {}) });

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v1/*',
    handler: async (req, reply) => {
      if (req.headers['x-vault-wrap-ttl']) throw new ArcaError('ERR_INVALID_REQUEST', 'response wrapping is not supported');
      if (o.forward) {
        const fwd = await o.forward(req);
        if (fwd) return reply.code(fwd.status).headers(fwd.headers).send(fwd.body);
      }
      const [rawPath = '', qs = ''] = req.url.slice(4).split('?', 2);
      let path: string;
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        throw new ArcaError('ERR_INVALID_REQUEST', 'invalid path encoding');
      }
      if (!/^[\x20-\x7e]*$/.test(path)) throw new ArcaError('ERR_INVALID_REQUEST', 'path must be printable ASCII');
      const query: Record<string, unknown> = {};
      for (const [k, v] of new URLSearchParams(qs)) if (k !== 'help') query[k] = v;
      let operation: LogicalRequest['operation'];
      let data: Record<string, unknown>;
      switch (req.method) {
        case 'GET': {
          const list = query['list'];
          delete query['list'];
          if (list !== undefined) {
            const s = String(list);
            if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) operation = 'list';
            else if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) operation = 'read';
            else throw new ArcaError('ERR_INVALID_REQUEST', `invalid value for list: ${s}`);
          } else operation = 'read';
          if (operation === 'list' && !path.endsWith('/')) path += '/';
          data = query;
          break;
        }
        case 'DELETE':
          operation = 'delete';
          data = query;
          break;
        case 'PATCH': {
          const ct = String(req.headers['content-type'] ?? '');
          if (!ct.split(';')[0]!.trim().toLowerCase().startsWith('application/merge-patch+json')) {
            return reply.code(415).send({ errors: [`PATCH requires Content-Type of application/merge-patch+json, provided ${ct}`], error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE', message: 'PATCH requires Content-Type of application/merge-patch+json', requestId: req.id } });
          }
          operation = 'patch';
          data = body(req);
          break;
        }
        default:
          if (path.endsWith('/')) throw new ArcaError('ERR_INVALID_REQUEST', "cannot write to a path ending in '/'");
          operation = 'write';
          data = body(req);
      }
      const clientAddr = (await o.clientAddr?.(req)) ?? req.ip;
      const res = await o.core.handle({ id: req.id, operation, path, data, token: token(req), clientAddr });
      if (res.status === 204) return reply.code(204).type('application/json').send();
      // An engine error status without data (e.g. KV PATCH of a missing key) has an empty body, as in Vault.
      if (res.status >= 400 && res.data === undefined && !res.warnings) return reply.code(res.status).type('application/json').send();
      const envelope: Record<string, unknown> = {
        request_id: req.id,
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: res.data ?? null,
        wrap_info: null,
        warnings: res.warnings?.length ? res.warnings : null,
        auth: res.auth ?? null,
        mount_type: res.mountType,
      };
      if (res.data && INJECT_TOP.some((r) => r.test(path.replace(/\/$/, '')))) Object.assign(envelope, res.data, { data: res.data });
      return reply.code(res.status).send(envelope);
    },
  });

  return app;
}
