import type { FastifyReply } from 'fastify';
import { type ArcaError, HTTP_STATUS } from '../errors/index.ts';

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
  const errors = err.code === 'ERR_NOT_FOUND' && message === '' ? [] : [message];
  return { status, body: { errors, error: { code: err.code, message, requestId } } };
}

export function sendError(reply: FastifyReply, err: ArcaError, requestId: string): FastifyReply {
  const { status, body } = errorBody(err, requestId);
  return reply.code(status).send(body);
}
