/**
 * `arca secret …`: KV v2 over the HTTP API through the shared client (--addr/--token/--cacert or
 * ARCA_ADDR, ARCA_TOKEN, ARCA_CACERT). PATH is `<mount>/<path>` as with `vault kv`
 * (e.g. `secret/app/db`, or the API path `secret/data/app/db`), or a path inside `--mount`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ArcaClient, parseSecretRef, type SecretRef, toClientError } from '../client/index.ts';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { type OutputFormat, printTable, printValue } from './output.ts';

/** Vault spells some long flags with one dash (`-field`); commander would read `-f ield`. */
const VAULT_STYLE_FLAGS = ['-field', '-version', '-versions', '-mount', '-cas'];

interface Common extends ClientFlags {
  mount?: string;
}

interface KvReply {
  status: number;
  data: Record<string, unknown> | null;
  warnings: string[] | null;
}

/**
 * One request through the shared client. 2xx → the envelope's data; errors → ArcaError with the
 * server's stable code. `allow404WithData`: KV answers a deleted version with 404 plus the envelope.
 */
async function kvRequest(
  c: ArcaClient,
  method: string,
  path: string,
  o: { body?: unknown; query?: Record<string, string> | undefined; allow404WithData?: boolean },
): Promise<KvReply> {
  const qs = o.query && Object.keys(o.query).length > 0 ? `?${new URLSearchParams(o.query).toString()}` : '';
  const headers: Record<string, string> = method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
  const r = await c.request(method, `${path}${qs}`, o.body, headers);
  const body = r.body as { data?: Record<string, unknown> | null; warnings?: string[] | null; errors?: unknown };
  const reply: KvReply = { status: r.status, data: body.data ?? null, warnings: body.warnings ?? null };
  if (r.status < 400) return reply;
  if (r.status === 404 && o.allow404WithData && body.errors === undefined && reply.data) return reply;
  if (r.status === 404) await throwIfUnmounted(c, path);
  if (r.status === 404 && Array.isArray(body.errors) && body.errors.length === 0) throw new ArcaError('ERR_NOT_FOUND', `no value found at ${path}`);
  throw toClientError(r);
}

/**
 * A 404 may mean the first PATH segment is not a mount at all (`app/db` instead of
 * `secret/app/db`): say so and name the mounts, when the token may list them.
 */
async function throwIfUnmounted(c: ArcaClient, path: string): Promise<void> {
  const mount = `${path.split('/')[0]}/`;
  const r = await c.request('GET', 'sys/mounts').catch(() => undefined);
  const data = (r?.status === 200 ? (r.body as { data?: unknown }).data : undefined) ?? undefined;
  if (!data || typeof data !== 'object') return;
  const mounts = Object.keys(data).filter((m) => m.endsWith('/')).sort();
  if (mounts.includes(mount)) return;
  const asGiven = `${mount}${path.split('/').slice(1).join('/').replace(/^(data|metadata)\//, '')}`;
  const example = `${mounts.includes('secret/') ? 'secret/' : (mounts[0] ?? 'secret/')}${asGiven}`;
  throw new ArcaError('ERR_NOT_FOUND', `nothing is mounted at ${mount}; PATH starts with a mount (${mounts.join(', ')}), e.g. ${example}`);
}

/**
 * Splits PATH into mount and key path with the one secret-reference parser (src/client): both
 * `secret/app/db` and the API path `secret/data/app/db` name the same secret; --mount takes PATH
 * literally.
 */
export function splitPath(path: string, mount: string | undefined): SecretRef {
  try {
    return parseSecretRef(path, mount);
  } catch (err) {
    if (isArcaError(err, 'ERR_INVALID_REQUEST')) throw new UsageError(`PATH must start with the mount, e.g. secret/${path.replace(/^\/+/, '')}, or pass --mount`);
    throw err;
  }
}

/** `k=v` pairs or a single `@file.json` holding a JSON object. */
export function parseData(args: string[]): Record<string, unknown> {
  if (args.length === 1 && args[0]!.startsWith('@')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(args[0]!.slice(1), 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read ${args[0]!.slice(1)} as JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('the JSON file must hold an object');
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected key=value, got "${a}"`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  if (Object.keys(out).length === 0) throw new UsageError('no data: give key=value pairs or @file.json');
  return out;
}

function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(v);
}

function versionsOpt(v: string | undefined, required: boolean): number[] | undefined {
  if (v === undefined) {
    if (required) throw new UsageError('--versions is required, e.g. --versions 1,2');
    return undefined;
  }
  const out = v.split(',').map((s) => s.trim());
  if (out.some((s) => !/^\d+$/.test(s))) throw new UsageError('--versions must be a comma-separated list of version numbers');
  return out.map(Number);
}

function show(value: unknown, format: OutputFormat): void {
  if (format === 'table' && value && typeof value === 'object' && 'keys' in value && Array.isArray((value as { keys: unknown }).keys)) {
    printTable(['Keys'], ((value as { keys: string[] }).keys).map((k) => [k]));
    return;
  }
  printValue(value, format);
}

function withCommon(c: Command): Command {
  return withClientFlags(c.option('--mount <mount>', 'mount point (default: the first segment of PATH)'));
}

export function register(cmd: Command): void {
  for (let i = 0; i < process.argv.length; i++) {
    if (VAULT_STYLE_FLAGS.includes(process.argv[i]!)) process.argv[i] = `-${process.argv[i]}`;
  }
  cmd.description('read and write KV v2 secrets');

  withCommon(cmd.command('put <path> <data...>').description('write a new version: k=v ... or @file.json'))
    .option('--cas <version>', 'write only if the current version is this (0 = key must not exist)')
    .action(async (path: string, args: string[], o: Common & { cas?: string }) => {
      const { client, format } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const cas = intOpt('cas', o.cas);
      const body = { data: parseData(args), options: cas === undefined ? {} : { cas } };
      const r = await kvRequest(client, 'PUT', `${t.mount}/data/${t.path}`, { body });
      show(r.data, format);
    });

  withCommon(cmd.command('patch <path> <data...>').description('merge k=v ... or @file.json into the current version'))
    .option('--cas <version>', 'patch only if the current version is this')
    .action(async (path: string, args: string[], o: Common & { cas?: string }) => {
      const { client, format } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const cas = intOpt('cas', o.cas);
      const body = { data: parseData(args), options: cas === undefined ? {} : { cas } };
      const r = await kvRequest(client, 'PATCH', `${t.mount}/data/${t.path}`, { body });
      show(r.data, format);
    });

  withCommon(cmd.command('get <path>').description('read the current or a given version'))
    .option('--version <n>', 'version to read (default: current)')
    .option('--field <key>', 'print only this field of the data, raw')
    .action(async (path: string, o: Common & { version?: string; field?: string }) => {
      const { client, format } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const version = intOpt('version', o.version);
      const query = version === undefined ? undefined : { version: String(version) };
      const r = await kvRequest(client, 'GET', `${t.mount}/data/${t.path}`, { query, allow404WithData: true }).catch((err: unknown) => {
        if (version !== undefined && isArcaError(err, 'ERR_NOT_FOUND')) throw new ArcaError('ERR_NOT_FOUND', `${t.mount}/${t.path} has no version ${version}`);
        throw err;
      });
      const body = r.data as { data: Record<string, unknown> | null; metadata: Record<string, unknown> } | null;
      if (!body || body.data === null) {
        process.stderr.write(`version is deleted or destroyed; its metadata:\n`);
        show(body?.metadata ?? null, format);
        process.exitCode = 2;
        return;
      }
      if (o.field !== undefined) {
        if (!Object.hasOwn(body.data, o.field)) throw new UsageError(`field "${o.field}" not present in secret`);
        const v = body.data[o.field];
        process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
        return;
      }
      show(format === 'table' ? body.data : body, format);
    });

  withCommon(cmd.command('list <path>').description('list keys and folders under a path'))
    .action(async (path: string, o: Common) => {
      const { client, format } = clientFrom(o);
      const t = splitPath(path.endsWith('/') ? path : `${path}/`, o.mount);
      const r = await kvRequest(client, 'GET', `${t.mount}/metadata/${t.path}`, { query: { list: 'true' } });
      show(r.data, format);
    });

  withCommon(cmd.command('delete <path>').description('soft-delete the current version, or --versions'))
    .option('--versions <list>', 'comma-separated versions to delete')
    .action(async (path: string, o: Common & { versions?: string }) => {
      const { client } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const versions = versionsOpt(o.versions, false);
      if (versions === undefined) await kvRequest(client, 'DELETE', `${t.mount}/data/${t.path}`, {});
      else await kvRequest(client, 'PUT', `${t.mount}/delete/${t.path}`, { body: { versions } });
    });

  for (const [verb, what] of [['undelete', 'restore soft-deleted versions'], ['destroy', 'permanently destroy versions']] as const) {
    withCommon(cmd.command(`${verb} <path>`).description(what))
      .option('--versions <list>', 'comma-separated versions')
      .action(async (path: string, o: Common & { versions?: string }) => {
        const { client } = clientFrom(o);
        const t = splitPath(path, o.mount);
        await kvRequest(client, 'PUT', `${t.mount}/${verb}/${t.path}`, { body: { versions: versionsOpt(o.versions, true) } });
      });
  }

  const meta = cmd.command('metadata').description('read or write a secret\'s metadata');
  withCommon(meta.command('get <path>').description('read metadata and the version list'))
    .action(async (path: string, o: Common) => {
      const { client, format } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const r = await kvRequest(client, 'GET', `${t.mount}/metadata/${t.path}`, {});
      show(r.data, format);
    });
  withCommon(meta.command('put <path>').description('set max_versions, cas_required, delete_version_after, custom_metadata'))
    .option('--max-versions <n>', 'versions to keep (0 = engine default)')
    .option('--cas-required <bool>', 'require cas on every write: true or false')
    .option('--delete-version-after <duration>', 'soft-delete versions this long after writing, e.g. 24h; 0 clears')
    .option('--custom-metadata <k=v>', 'custom metadata pair (repeatable; replaces the whole map)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (path: string, o: Common & { maxVersions?: string; casRequired?: string; deleteVersionAfter?: string; customMetadata: string[] }) => {
      const { client } = clientFrom(o);
      const t = splitPath(path, o.mount);
      const body: Record<string, unknown> = {};
      const mv = intOpt('max-versions', o.maxVersions);
      if (mv !== undefined) body['max_versions'] = mv;
      if (o.casRequired !== undefined) {
        if (o.casRequired !== 'true' && o.casRequired !== 'false') throw new UsageError('--cas-required must be true or false');
        body['cas_required'] = o.casRequired === 'true';
      }
      if (o.deleteVersionAfter !== undefined) body['delete_version_after'] = o.deleteVersionAfter;
      if (o.customMetadata.length > 0) body['custom_metadata'] = parseData(o.customMetadata);
      if (Object.keys(body).length === 0) throw new UsageError('nothing to set: give at least one option');
      const r = await kvRequest(client, 'PUT', `${t.mount}/metadata/${t.path}`, { body });
      for (const w of r.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    });

  cmd
    .command('search')
    .description('find secret paths (never values) by prefix, substring and custom metadata')
    .option('--mount <mount>', 'mount point', 'secret')
    .option('--prefix <prefix>', 'paths starting with this')
    .option('--q <text>', 'paths containing this (case-insensitive)')
    .option('--metadata <k=v>', 'custom_metadata equality filter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[]);
  withClientFlags(cmd.commands.at(-1)!)
    .action(async (o: ClientFlags & { mount: string; prefix?: string; q?: string; metadata: string[] }) => {
      const { client, format } = clientFrom(o);
      const query: Record<string, string> = {};
      if (o.prefix !== undefined) query['prefix'] = o.prefix;
      if (o.q !== undefined) query['q'] = o.q;
      for (const [k, v] of Object.entries(o.metadata.length > 0 ? parseData(o.metadata) : {})) query[`metadata.${k}`] = String(v);
      const r = await kvRequest(client, 'GET', `${o.mount.replace(/^\/+|\/+$/g, '')}/search`, { query });
      show(r.data, format);
    });
}
