/**
 * The web UI (`web/`, built by `npm run build` into `dist/ui`) served at `/ui/` from the same origin
 * as the API, so the UI needs no CORS and tokens never cross origins.
 * - A strict Content-Security-Policy on every UI response: scripts, styles and connections only from
 *   this origin, no inline script or style element, no framing, no plugins.
 * - Vite names assets by content hash (`/ui/assets/index-3f9a1c.js`): cached for a year, immutable.
 *   `index.html` and every client-side route (`/ui/secrets/...`) answer the same index with no-store,
 *   so a new build is picked up on the next load.
 * - No build present: `/ui/` answers 503 with a message saying how to build it (the API works).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const UI_PREFIX = '/ui/';
/** Where `npm run build` writes the UI, relative to this file (src/http → repo root). */
export const DEFAULT_UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'ui');

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const ASSET = /^\/ui\/assets\/[^/]+$/;

export function registerUi(app: FastifyInstance, dir: string = DEFAULT_UI_DIR): void {
  const built = existsSync(join(dir, 'index.html'));
  app.get('/', (_req, reply) => reply.redirect(UI_PREFIX, 302));
  if (!built) {
    const notBuilt = (_req: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).headers(SECURITY_HEADERS).type('text/plain; charset=utf-8')
        .send('The web UI is not built: run `npm run build` in the Arca checkout (the API under /v1/ works without it).\n');
    app.get('/ui', notBuilt);
    app.get('/ui/*', notBuilt);
    return;
  }
  // One encapsulated context: its onSend hook sets the UI's headers on UI responses only (the API's
  // onRequest hook has already set no-store, which hashed assets override). Registered lazily:
  // fastify loads it before listen/ready.
  void app.register(async (ui) => {
    ui.addHook('onSend', (req, reply, payload, done) => {
      reply.headers(SECURITY_HEADERS);
      reply.header('cache-control', reply.statusCode === 200 && ASSET.test(req.url.split('?')[0]!) ? 'public, max-age=31536000, immutable' : 'no-store');
      done(null, payload);
    });
    await ui.register(fastifyStatic, { root: dir, prefix: UI_PREFIX, index: false, wildcard: false, decorateReply: true, cacheControl: false });
    // Client-side routes (and /ui/ itself) answer the app's index; unknown assets stay 404.
    const index = (req: FastifyRequest, reply: FastifyReply) => {
      if (ASSET.test(req.url.split('?')[0]!)) return reply.code(404).type('text/plain').send('not found\n');
      return reply.sendFile('index.html');
    };
    ui.get('/ui/', index);
    ui.get('/ui/*', index);
  });
  app.get('/ui', (_req, reply) => reply.redirect(UI_PREFIX, 301));
}
