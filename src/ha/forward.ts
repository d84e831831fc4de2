/**
 * A standby answers a logical request by forwarding it, unchanged (method, path, query, headers with
 * the token, body), to the active replica and relaying the response — so auth, audit and errors
 * happen on the active exactly as for a direct request. Or, in redirect mode, with a 307.
 */
import http from 'node:http';
import https from 'node:https';
import { ArcaError } from '../errors/index.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'proxy-connection', 'te', 'trailer']);
export const FORWARDED_HEADER = 'x-arca-forwarded-by';
/** On a forwarded response: the replica that answered it (operators and tests see who applied a write). */
export const FORWARDED_TO_HEADER = 'x-arca-forwarded-to';

export interface ForwardResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export async function forwardRequest(
  leader: string,
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | undefined,
  self: string,
  extraHeaders: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<ForwardResult> {
  if (headers[FORWARDED_HEADER]) {
    // The active we forwarded to thinks it is a standby too (a transition is under way): don't loop.
    throw new ArcaError('ERR_HA_STANDBY', 'no active replica is available right now; retry shortly');
  }
  const target = new URL(url, leader);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) h[k] = Array.isArray(v) ? v.join(', ') : v;
  h[FORWARDED_HEADER] = self;
  Object.assign(h, extraHeaders);
  if (body?.length) h['content-length'] = String(body.length);
  const mod = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(target, { method, headers: h, agent: target.protocol === 'https:' ? agents.https : agents.http, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
        out[FORWARDED_TO_HEADER] = target.origin;
        resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new ArcaError('ERR_HA_STANDBY', 'the active replica did not answer in time')));
    req.on('error', (err) => reject(err instanceof ArcaError ? err : new ArcaError('ERR_HA_STANDBY', 'cannot reach the active replica; retry shortly', { cause: err })));
    if (body?.length) req.write(body);
    req.end();
  });
}
