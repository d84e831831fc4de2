import type { FastifyReply } from 'fastify';
import { ArcaError, HTTP_STATUS, isArcaError, toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

/** Vault sends exactly this (no charset parameter); some clients compare it verbatim. */
export const JSON_TYPE = 'application/json';

/**
 * Vault's error body `{"errors":[...]}` plus Arca's stable code:
 *   {"errors":["msg"],"error":{"code":"ERR_X","message":"msg","requestId":"…"}}
 * 5xx messages are generic (the cause is logged under the same request id), except for the codes
 * whose fixed messages tell the operator what to fix and carry no request data.
 */
const SAYABLE_5XX: ReadonlySet<string> = new Set(['ERR_SEALED', 'ERR_BARRIER_SEALED', 'ERR_AUDIT_UNAVAILABLE', 'ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE']);

export function errorBody(err: ArcaError, requestId: string): { status: number; body: Record<string, unknown> } {
  const status = HTTP_STATUS[err.code];
  const message = status >= 500 && !SAYABLE_5XX.has(err.code) ? 'internal error' : err.expose ? err.message : 'internal error';
  // Vault's not-found `{"errors":[]}` (clients read the empty list as "no value"); Arca's message still says it.
  if (err.code === 'ERR_NOT_FOUND' && message === '') return { status, body: notFoundBody(requestId) };
  return { status, body: { errors: [message], error: { code: err.code, message, requestId } } };
}

/** Vault's body for a path with nothing stored: an empty `errors` list, plus Arca's code and message. */
export function notFoundBody(requestId: string): Record<string, unknown> {
  return { errors: [], error: { code: 'ERR_NOT_FOUND', message: 'nothing is stored at this path', requestId } };
}

/**
 * Sends `body` as JSON with Content-Type exactly JSON_TYPE: fastify appends `; charset=utf-8` to a JSON
 * type for strings and objects, but sends a Buffer with the type it is given.
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendJsonText(reply, status, JSON.stringify(body));
}

/** sendJson for a body already serialized. */
export function sendJsonText(reply: FastifyReply, status: number, json: string): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(Buffer.from(json));
}

export function sendError(reply: FastifyReply, err: ArcaError, requestId: string): FastifyReply {
  const { status, body } = errorBody(err, requestId);
  return sendJson(reply, status, body);
}

/** One coded error for whatever fastify (parsers, router, limits) or a handler threw. */
export function fromThrown(err: unknown): ArcaError {
  if (isArcaError(err)) return err;
  const f = err as { code?: unknown; statusCode?: unknown };
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ArcaError('ERR_PAYLOAD_TOO_LARGE', 'request body too large', { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ArcaError('ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Type: send application/json', { cause: err });
    case 'FST_ERR_BAD_URL':
      return new ArcaError('ERR_INVALID_REQUEST', 'invalid URL: check its percent-encoding', { cause: err });
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new ArcaError('ERR_INVALID_REQUEST', 'malformed request', { cause: err });
  }
  return toArcaError(err);
}

/**
 * The cause chain of an error for the server log: names, codes and the messages of errors whose
 * messages are known to hold no request data (ArcaError, Node system errors). Other messages
 * (driver errors may quote values) are left out.
 */
export function causeChain(err: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur) && out.length < 8) {
    seen.add(cur);
    if (cur instanceof Error) {
      const e = cur as Error & { code?: unknown; syscall?: unknown };
      const link: Record<string, unknown> = { name: e.name };
      if (typeof e.code === 'string' || typeof e.code === 'number') link['code'] = e.code;
      if (isArcaError(e) || typeof e.syscall === 'string') link['message'] = e.message;
      // A bug's frames locate it; the stack's first line repeats the message, which is left out.
      else if (typeof e.stack === 'string') link['frames'] = e.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 5).map((l) => l.trim());
      out.push(link);
      cur = e.cause;
    } else {
      out.push({ name: typeof cur });
      break;
    }
  }
  return out;
}

/** Every 5xx leaves one log line with its code and cause chain, under the request id the client got. */
export function logServerError(log: Logger, requestId: string, err: ArcaError): void {
  if (HTTP_STATUS[err.code] < 500) return;
  const fields = { requestId, code: err.code, message: err.message, causes: causeChain(err.cause) };
  // A sealed server answering 503 is a state the operator chose, not a fault.
  if (err.code === 'ERR_SEALED' || err.code === 'ERR_BARRIER_SEALED') log.warn(fields, 'request failed');
  else log.error(fields, 'request failed');
}
