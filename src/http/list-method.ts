/**
 * Node's HTTP parser rejects the `LIST` verb (llhttp: HPE_INVALID_METHOD) before any handler runs, but
 * Vault clients such as node-vault send it. We catch the parser error, rebuild the request from the
 * raw head (LIST carries no body), run it as `GET …?list=true` through the app, write the response to
 * the socket and close the connection (the parser is in an error state; keep-alive clients reconnect).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../errors/index.ts';
import { errorBody, JSON_TYPE } from './errors.ts';

interface ParserError extends Error {
  code?: string;
  rawPacket?: unknown;
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 204: 'No Content', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** A request Node's parser refused, answered in the one error shape (then the connection closes). */
export function malformedResponse(): string {
  const { body } = errorBody(new ArcaError('ERR_INVALID_REQUEST', 'malformed HTTP request'), randomUUID());
  const text = JSON.stringify(body);
  return `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

/** Returns a handler for fastify's `clientErrorHandler` option; `getApp` resolves the built app. */
export function listMethodHandler(getApp: () => FastifyInstance): (err: ParserError, socket: Socket) => void {
  return (err: ParserError, socket: Socket) => {
    const app = getApp();
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
    if (err.code !== 'HPE_INVALID_METHOD' || !raw || raw.subarray(0, 5).toString('latin1') !== 'LIST ') {
      if (socket.writable) socket.end(malformedResponse());
      return;
    }
    const text = raw.toString('latin1');
    const headEnd = text.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      socket.end(malformedResponse());
      return;
    }
    const [requestLine, ...headerLines] = text.slice(0, headEnd).split('\r\n');
    const url = requestLine!.split(' ')[1] ?? '/';
    const headers: Record<string, string> = {};
    for (const h of headerLines) {
      const i = h.indexOf(':');
      if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    const listUrl = url.includes('?') ? `${url}&list=true` : `${url}?list=true`;
    app
      .inject({ method: 'GET', url: listUrl, headers, remoteAddress: socket.remoteAddress ?? '' })
      .then((res) => {
        const body = res.rawPayload;
        const lines = [`HTTP/1.1 ${res.statusCode} ${STATUS_TEXT[res.statusCode] ?? 'Status'}`];
        for (const [k, v] of Object.entries(res.headers)) {
          if (['content-length', 'connection', 'transfer-encoding', 'keep-alive'].includes(k) || v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        }
        lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
        socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
      })
      .catch(() => socket.destroy());
  };
}
