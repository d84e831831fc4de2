/**
 * Logical response → Vault's HTTP shapes: the envelope, 204s, raw bodies (sys/metrics) and
 * engine statuses without data (KV's 404) in the one error shape.
 */
import type { FastifyReply } from 'fastify';
import type { LogicalResponse } from '../core/index.ts';
import { JSON_TYPE, notFoundBody, sendJson, sendJsonText } from './errors.ts';

/** Routes whose `data` Vault copies to the top level of the envelope (old clients read it there). */
const INJECT_TOP = [/^sys\/audit(\/.*)?$/, /^sys\/audit-hash\/.+$/, /^sys\/auth(\/.*)?$/, /^sys\/capabilities(-self|-accessor)?$/, /^sys\/key-status$/, /^sys\/mounts(\/.*)?$/, /^sys\/policy(\/.*)?$/, /^sys\/rotate$/];

/** Vault's response envelope; `path` is the logical path (decides the top-level copy of `data`). */
export function envelope(res: LogicalResponse, requestId: string, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: res.data ?? null,
    wrap_info: res.wrapInfo ?? null,
    warnings: res.warnings?.length ? res.warnings : null,
    auth: res.auth ?? null,
    mount_type: res.mountType,
  };
  if (res.data && path.startsWith('sys/') && INJECT_TOP.some((r) => r.test(path.endsWith('/') ? path.slice(0, -1) : path))) Object.assign(out, res.data, { data: res.data });
  return out;
}

/**
 * Exactly `JSON.stringify(envelope(res, requestId, path))`, without building the envelope object and
 * serializing its constant fields on every response (response.test.ts compares the two).
 */
export function envelopeJson(res: LogicalResponse, requestId: string, path: string): string {
  // Responses whose data may be copied to the top level take the general path.
  if (res.data && path.startsWith('sys/')) return JSON.stringify(envelope(res, requestId, path));
  // JSON.stringify leaves out a key whose value is undefined.
  const mountType = res.mountType === undefined ? '' : `,"mount_type":${JSON.stringify(res.mountType)}`;
  const warnings = res.warnings?.length ? JSON.stringify(res.warnings) : 'null';
  return `{"request_id":${JSON.stringify(requestId)},"lease_id":"","renewable":false,"lease_duration":0,"data":${JSON.stringify(res.data ?? null)},"wrap_info":${res.wrapInfo ? JSON.stringify(res.wrapInfo) : 'null'},"warnings":${warnings},"auth":${JSON.stringify(res.auth ?? null)}${mountType}}`;
}

/** The body of an engine status >= 400 that came without data (e.g. KV's 404 for a missing key). */
export function bareErrorBody(status: number, requestId: string): Record<string, unknown> {
  if (status === 404) return notFoundBody(requestId);
  return { errors: [], error: { code: 'ERR_INVALID_REQUEST', message: `request refused with status ${status}`, requestId } };
}

/** Arca's `error` for an engine status >= 400 that Vault answers in its envelope: the warnings say why. */
export function refusalError(res: LogicalResponse, requestId: string): Record<string, unknown> {
  const { error } = bareErrorBody(res.status, requestId) as { error: Record<string, unknown> };
  return res.warnings?.length ? { ...error, message: res.warnings.join('; ') } : error;
}

export function sendLogical(reply: FastifyReply, res: LogicalResponse, requestId: string, path: string): FastifyReply {
  if (res.raw) return reply.code(res.status).type(res.raw.contentType).send(Buffer.from(res.raw.body));
  if (res.status === 204) return reply.code(204).type(JSON_TYPE).send();
  if (res.status >= 400 && res.data === undefined && !res.warnings) return sendJson(reply, res.status, bareErrorBody(res.status, requestId));
  // A refusal Vault answers in its envelope (KV's root-path warning): Arca's code and message beside it.
  if (res.status >= 400) return sendJson(reply, res.status, { ...envelope(res, requestId, path), error: refusalError(res, requestId) });
  return sendJsonText(reply, res.status, envelopeJson(res, requestId, path));
}
