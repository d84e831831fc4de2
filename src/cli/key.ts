/**
 * `arca key create|list|show|rotate|config|delete`: manage transit keys over the HTTP API.
 * Talks to ARCA_ADDR (default http://127.0.0.1:8200) with ARCA_TOKEN; ARCA_CACERT pins a CA for https.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from './exit.ts';
import { parseFormat, printTable, printValue } from './output.ts';

// TODO(issue 4): replace with the shared typed client in src/client once it exists.
export interface ApiConn {
  addr: string;
  token: string | undefined;
  ca: Buffer | undefined;
}

export function connFromEnv(): ApiConn {
  const addr = (process.env['ARCA_ADDR'] ?? 'http://127.0.0.1:8200').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(addr)) throw new UsageError(`ARCA_ADDR must start with http:// or https:// (got "${addr}")`);
  const caPath = process.env['ARCA_CACERT'];
  let ca: Buffer | undefined;
  if (caPath) {
    try {
      ca = readFileSync(caPath);
    } catch {
      throw new UsageError(`cannot read ARCA_CACERT file ${caPath}`);
    }
  }
  return { addr, token: process.env['ARCA_TOKEN'] || undefined, ca };
}

const errorBody = z.object({ errors: z.array(z.string()).optional() }).passthrough();

/** One API call. Returns the parsed JSON body (undefined for 204); non-2xx becomes an Error with the server's message. */
export async function api(conn: ApiConn, method: string, path: string, body?: unknown): Promise<Record<string, unknown> | undefined> {
  const url = new URL(`${conn.addr}/v1/${path}`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conn.token) headers['x-vault-token'] = conn.token;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method, headers, ...(conn.ca ? { ca: conn.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(new Error(`cannot reach ${conn.addr}: ${err.message}`)));
    req.end(payload);
  });
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: server answered ${status} with a body that is not JSON`);
  }
  if (status >= 400) {
    const parsed = errorBody.safeParse(json);
    const msgs = parsed.success ? (parsed.data.errors ?? []) : [];
    if (status === 404 && msgs.length === 0) throw new Error(`${path}: not found`);
    throw new Error(`${method} ${path}: ${status}${msgs.length ? ` ${msgs.join('; ')}` : ''}`);
  }
  return json === undefined ? undefined : z.record(z.string(), z.unknown()).parse(json);
}

export function dataOf(r: Record<string, unknown> | undefined): Record<string, unknown> {
  const d = r?.['data'];
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new Error('server answered without data');
  return d as Record<string, unknown>;
}

function mountPath(mount: string): string {
  return mount.replace(/^\/+|\/+$/g, '');
}

interface KeyOpts {
  mount: string;
  output?: string;
}

function addCommon(c: Command): Command {
  return c.option('--mount <path>', 'transit mount path', 'transit').option('-o, --output <format>', 'json | yaml | table');
}

function showKey(d: Record<string, unknown>, format: string | undefined): void {
  const f = parseFormat(format);
  if (f !== 'table') {
    printValue(d, f);
    return;
  }
  const { keys, version_ids: ids, ...rest } = d;
  printValue(rest, 'table');
  const created = z.record(z.string(), z.number()).catch({}).parse(keys);
  const idMap = z.record(z.string(), z.string()).catch({}).parse(ids);
  process.stdout.write('\n');
  printTable(
    ['Version', 'Created', 'Version ID'],
    Object.keys(created)
      .sort((a, b) => Number(a) - Number(b))
      .map((v) => [v, new Date(created[v]! * 1000).toISOString(), idMap[v] ?? '']),
  );
}

function intOpt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`expected a non-negative integer, got "${v}"`);
  return n;
}

function boolOpt(v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`expected true or false, got "${v}"`);
}

export function register(cmd: Command): void {
  addCommon(cmd.command('create <name>').description('create a transit key'))
    .option('--type <type>', 'aes256-gcm96 (software) or hsm-aes256-gcm96 (PKCS#11 HSM)', 'aes256-gcm96')
    .option('--derived', 'derive a key per request context')
    .option('--auto-rotate-period <duration>', 'rotate on this schedule (e.g. 720h; 0 disables; at least 1h)')
    .action(async (name: string, o: KeyOpts & { type: string; derived?: boolean; autoRotatePeriod?: string }) => {
      const body: Record<string, unknown> = { type: o.type, derived: o.derived ?? false };
      if (o.autoRotatePeriod !== undefined) body['auto_rotate_period'] = o.autoRotatePeriod;
      const r = await api(connFromEnv(), 'POST', `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}`, body);
      for (const w of z.array(z.string()).catch([]).parse(r?.['warnings'])) process.stderr.write(`warning: ${w}\n`);
      if (r?.['data']) showKey(dataOf(r), o.output);
      else process.stdout.write(`created key ${name}\n`);
    });

  addCommon(cmd.command('list').description('list transit key names')).action(async (o: KeyOpts) => {
    let names: string[] = [];
    try {
      const r = await api(connFromEnv(), 'GET', `${mountPath(o.mount)}/keys?list=true`);
      names = z.array(z.string()).parse(dataOf(r)['keys']);
    } catch (err) {
      // Vault answers an empty list with 404.
      if (!(err instanceof Error && err.message.endsWith(': not found'))) throw err;
    }
    const f = parseFormat(o.output);
    if (f === 'table') for (const n of names) process.stdout.write(`${n}\n`);
    else printValue(names, f);
  });

  addCommon(cmd.command('show <name>').description('show a key: settings, versions, creation times and version ids')).action(
    async (name: string, o: KeyOpts) => {
      showKey(dataOf(await api(connFromEnv(), 'GET', `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}`)), o.output);
    },
  );

  addCommon(cmd.command('rotate <name>').description('add a new key version and make it the latest')).action(async (name: string, o: KeyOpts) => {
    const r = await api(connFromEnv(), 'POST', `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}/rotate`, {});
    if (r?.['data']) showKey(dataOf(r), o.output);
    else process.stdout.write(`rotated key ${name}\n`);
  });

  addCommon(cmd.command('config <name>').description('tune a key'))
    .option('--min-decryption-version <n>', 'refuse ciphertexts older than this version', intOpt)
    .option('--min-encryption-version <n>', 'oldest version encrypt may be asked to use (0 = latest)', intOpt)
    .option('--deletion-allowed <bool>', 'allow `arca key delete` (true|false)', boolOpt)
    .option('--auto-rotate-period <duration>', 'rotate on this schedule (0 disables; at least 1h)')
    .action(
      async (
        name: string,
        o: KeyOpts & { minDecryptionVersion?: number; minEncryptionVersion?: number; deletionAllowed?: boolean; autoRotatePeriod?: string },
      ) => {
        const body: Record<string, unknown> = {};
        if (o.minDecryptionVersion !== undefined) body['min_decryption_version'] = o.minDecryptionVersion;
        if (o.minEncryptionVersion !== undefined) body['min_encryption_version'] = o.minEncryptionVersion;
        if (o.deletionAllowed !== undefined) body['deletion_allowed'] = o.deletionAllowed;
        if (o.autoRotatePeriod !== undefined) body['auto_rotate_period'] = o.autoRotatePeriod;
        if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option (see --help)');
        const r = await api(connFromEnv(), 'POST', `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}/config`, body);
        for (const w of z.array(z.string()).catch([]).parse(r?.['warnings'])) process.stderr.write(`warning: ${w}\n`);
        if (r?.['data']) showKey(dataOf(r), o.output);
        else process.stdout.write(`updated key ${name}\n`);
      },
    );

  addCommon(cmd.command('delete <name>').description('delete a key and all its versions (needs deletion_allowed)')).action(
    async (name: string, o: KeyOpts) => {
      await api(connFromEnv(), 'DELETE', `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted key ${name}\n`);
    },
  );
}
