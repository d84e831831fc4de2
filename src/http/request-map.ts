/**
 * HTTP → logical request mapping (Vault's rules): the path after `/v1/`, the operation from the
 * method (GET + `list=true` is a LIST), the data from the query (reads, lists, deletes) or the body.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LogicalRequest } from '../core/index.ts';
import { ArcaError } from '../errors/index.ts';
import { parseBody } from './body.ts';
import { parseDuration } from '../units/duration.ts';

/** Vault's system max for wrapping TTLs (32 days); the wrapping store enforces the same bound. */
const MAX_WRAP_TTL = 32 * 86400;

export interface MappedRequest {
  operation: LogicalRequest['operation'];
  /** Logical path without `/v1/`; a LIST path always ends with `/`. */
  path: string;
  data: Record<string, unknown>;
}

const LIST_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const LIST_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);
const PRINTABLE = /^[\x20-\x7e]*$/;

/** The client's token: `X-Vault-Token`, else `Authorization: Bearer`. */
export function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const v = headers['x-vault-token'];
  if (typeof v === 'string' && v !== '') return v;
  const a = headers.authorization;
  return typeof a === 'string' && a.startsWith('Bearer ') ? a.slice(7) : undefined;
}

/** `X-Vault-Wrap-TTL` in seconds (a duration or a number of seconds), or undefined when absent. */
export function wrapTtlOf(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['x-vault-wrap-ttl'];
  if (v === undefined || v === '') return undefined;
  return parseDuration(Array.isArray(v) ? v[0] : v, { field: 'X-Vault-Wrap-TTL', min: 1, max: MAX_WRAP_TTL });
}

/** The decoded logical path of a `/v1/...` URL (no query), or a coded 400. */
export function logicalPath(url: string): string {
  const q = url.indexOf('?');
  const raw = url.slice(4, q < 0 ? undefined : q);
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new ArcaError('ERR_INVALID_REQUEST', 'invalid path encoding');
  }
  if (!PRINTABLE.test(path)) throw new ArcaError('ERR_INVALID_REQUEST', 'path must be printable ASCII');
  return path;
}

function queryOf(url: string): Record<string, unknown> {
  const q = url.indexOf('?');
  const out: Record<string, unknown> = {};
  if (q < 0) return out;
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) if (k !== 'help') out[k] = v;
  return out;
}

/** Maps one `/v1/*` request; `body` is the raw body buffer (parsed only for methods that carry data). */
export function mapRequest(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer | undefined): MappedRequest {
  let path = logicalPath(url);
  switch (method) {
    // fastify answers HEAD with the GET route: it reads, never writes.
    case 'HEAD':
    case 'GET': {
      const data = queryOf(url);
      const list = data['list'];
      if (list === undefined) return { operation: 'read', path, data };
      delete data['list'];
      const s = String(list);
      if (LIST_FALSE.has(s)) return { operation: 'read', path, data };
      if (!LIST_TRUE.has(s)) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid value for list: use true or false');
      if (!path.endsWith('/')) path += '/';
      return { operation: 'list', path, data };
    }
    case 'DELETE':
      return { operation: 'delete', path, data: queryOf(url) };
    case 'PATCH': {
      const ct = headers['content-type'] ?? '';
      if (!ct.split(';')[0]!.trim().toLowerCase().startsWith('application/merge-patch+json')) {
        throw new ArcaError('ERR_UNSUPPORTED_MEDIA_TYPE', 'PATCH requires Content-Type application/merge-patch+json');
      }
      return { operation: 'patch', path, data: parseBody(body, ct) };
    }
    default:
      if (path.endsWith('/')) throw new ArcaError('ERR_INVALID_REQUEST', "cannot write to a path ending in '/'");
      return { operation: 'write', path, data: parseBody(body, headers['content-type']) };
  }
}
