/**
 * The webhook's HTTPS server on bare node:https (HTTP/1.1, which the API server pins for webhooks):
 * POST /mutate, GET /healthz, /readyz, /metrics. Routing is on the pathname because the API server
 * appends `?timeout=10s`. The review itself is handled by the pure review.ts; this file only moves
 * bytes, enforces size and content type, reloads the certificate and counts.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log/index.ts';
import type { InjectorOptions } from './agent-container.ts';
import type { InjectorMetrics } from './metrics.ts';
import { type ReviewAnswer, Reviewer } from './review.ts';
import { loadTlsPair, type TlsWatcher, watchTlsPair } from './tls-files.ts';

/** A pod object is at most ~1.5 MiB in etcd; a review wraps one object (no oldObject on CREATE). */
const MAX_BODY = 3 * 1024 * 1024;

export interface InjectorServerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  injector: InjectorOptions;
  log: Logger;
  metrics: InjectorMetrics;
  /** Verdicts remembered by pod content (identical pods of one template); 0 disables. */
  cacheEntries?: number;
  /** How long /readyz fails before the listener closes on shutdown (endpoint removal lags). */
  shutdownDelayMs?: number;
  tlsRecheckMs?: number;
}

export interface InjectorServer {
  port: number;
  /** Re-reads the TLS files now (the watcher does this on change); true when a new pair went live. */
  reloadTls(): boolean;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

export async function startInjectorServer(o: InjectorServerOptions): Promise<InjectorServer> {
  const log = o.log;
  let pair = loadTlsPair(o.certFile, o.keyFile);
  o.metrics.tlsReload(true, pair.notAfter);
  let ready = true;
  const reviewer = new Reviewer(o.injector, o.cacheEntries ?? 256);

  const mutate = (req: IncomingMessage, res: ServerResponse) => {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/json') {
      req.resume();
      sendJson(res, 415, errorBody('ERR_UNSUPPORTED_MEDIA_TYPE', 'send the AdmissionReview as Content-Type: application/json'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (over) {
        sendJson(res, 413, errorBody('ERR_PAYLOAD_TOO_LARGE', `the AdmissionReview exceeds ${MAX_BODY} bytes`));
        return;
      }
      const t0 = performance.now();
      let a: ReviewAnswer;
      try {
        a = reviewer.handleBody(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        // A bug, not the client's fault: generic message out, cause in the log.
        log.error({ err }, 'review failed');
        o.metrics.review('malformed', 'ERR_INTERNAL', (performance.now() - t0) / 1000);
        sendJson(res, 500, errorBody('ERR_INTERNAL', 'internal error'));
        return;
      }
      o.metrics.review(a.outcome, a.code, (performance.now() - t0) / 1000);
      if (a.outcome === 'denied' || a.outcome === 'malformed') log.info({ outcome: a.outcome, code: a.code, pod: a.pod }, 'review refused');
      else log.debug({ outcome: a.outcome, pod: a.pod }, 'review');
      res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.text) });
      res.end(a.text);
    });
    req.on('error', () => res.destroy());
  };

  const server: Server = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/mutate') {
      if (req.method !== 'POST') {
        req.resume();
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      mutate(req, res);
      return;
    }
    req.resume();
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else if (path === '/readyz') res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'shutting down\n');
    else if (path === '/metrics') {
      o.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': o.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else res.writeHead(404).end();
  });

  // The API server gives up after the webhook's timeoutSeconds (≤ 30 s); a client slower than that
  // is not the API server, and must not hold a socket.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const watcher: TlsWatcher = watchTlsPair(
    o.certFile,
    o.keyFile,
    pair,
    (p) => {
      server.setSecureContext({ cert: p.cert, key: p.key });
      pair = p;
      o.metrics.tlsReload(true, p.notAfter);
      log.info({ notAfter: new Date(p.notAfter * 1000).toISOString() }, 'tls certificate reloaded');
    },
    (err) => {
      o.metrics.tlsReload(false);
      log.warn({ code: (err as { code?: string }).code }, 'tls certificate reload failed, keeping the previous one');
    },
    o.tlsRecheckMs,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    reloadTls: () => watcher.check(),
    async close() {
      ready = false;
      watcher.close();
      if (o.shutdownDelayMs) await new Promise((r) => setTimeout(r, o.shutdownDelayMs));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    },
  };
}
