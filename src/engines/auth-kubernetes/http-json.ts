/**
 * The one outbound HTTP helper of this engine (TokenReview, JWKS, OIDC discovery): JSON in and out,
 * a per-request CA (the cluster CA is rarely in the system store), a timeout and a response cap.
 * Any transport failure becomes ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE (503), never a 500.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ArcaError } from '../../errors/index.ts';

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  /** PEM; empty = the system trust store. */
  ca?: string;
  bearer?: string;
  body?: unknown;
  /** What is being called, for the error message ("TokenReview", "JWKS"). */
  what: string;
  timeoutMs?: number;
}

/** JWKS documents and TokenReviews are a few KiB; a larger answer is not one of them. */
const MAX_BODY = 1024 * 1024;

export function unavailable(what: string, why: string, cause?: unknown): ArcaError {
  return new ArcaError('ERR_K8S_AUTH_UPSTREAM_UNAVAILABLE', `${what} failed: ${why}; check the configured URL, CA and that the server is reachable from Arca`, cause === undefined ? {} : { cause });
}

export function requestJson(r: JsonRequest): Promise<JsonResponse> {
  const u = new URL(r.url);
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  if (r.bearer) headers['authorization'] = `Bearer ${r.bearer}`;
  const opts = { method: r.method, headers, timeout: r.timeoutMs ?? 5000, ...(r.ca ? { ca: r.ca } : {}) };
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          req.destroy();
          reject(unavailable(r.what, `the response is larger than ${MAX_BODY} bytes`));
        } else chunks.push(c);
      });
      res.on('error', (err) => reject(unavailable(r.what, 'the response was cut off', err)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => reject(unavailable(r.what, (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : err.message === 'timeout' ? 'timed out' : 'could not connect', err)));
    req.end(payload);
  });
}
