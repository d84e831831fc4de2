/**
 * `arca key create|list|show|rotate|config|delete`: manage transit keys over the HTTP API
 * (ARCA_ADDR, ARCA_TOKEN, ARCA_CACERT or --addr/--token/--cacert).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { ArcaClient } from '../client/index.ts';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { type OutputFormat, printTable, printValue } from './output.ts';

export function dataOf(body: Record<string, unknown>): Record<string, unknown> {
  const d = body['data'];
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new Error('server answered without data');
  return d as Record<string, unknown>;
}

/** Runs `fn` with a client built from the flags and closes it afterwards. */
export async function withClient<T>(f: ClientFlags, fn: (c: ArcaClient, format: OutputFormat) => Promise<T>): Promise<T> {
  const { client, format } = clientFrom(f);
  try {
    return await fn(client, format);
  } finally {
    client.close();
  }
}

export function mountPath(mount: string): string {
  return mount.replace(/^\/+|\/+$/g, '');
}

interface KeyOpts extends ClientFlags {
  mount: string;
}

function addCommon(c: Command): Command {
  return withClientFlags(c).option('--mount <path>', 'transit mount path', 'transit');
}

function keyPath(o: KeyOpts, name: string, suffix = ''): string {
  return `${mountPath(o.mount)}/keys/${encodeURIComponent(name)}${suffix}`;
}

function warn(body: Record<string, unknown>): void {
  for (const w of z.array(z.string()).catch([]).parse(body['warnings'])) process.stderr.write(`warning: ${w}\n`);
}

function showKey(d: Record<string, unknown>, format: OutputFormat): void {
  if (format !== 'table') {
    printValue(d, format);
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

/** Prints the key body a write answered with (200), or `fallback` for an older-style 204. */
function showWritten(body: Record<string, unknown>, format: OutputFormat, fallback: string): void {
  warn(body);
  if (body['data']) showKey(dataOf(body), format);
  else process.stdout.write(`${fallback}\n`);
}

function intOpt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`expected a non-negative integer, got "${v}"`);
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
    .action((name: string, o: KeyOpts & { type: string; derived?: boolean; autoRotatePeriod?: string }) =>
      withClient(o, async (c, format) => {
        const body: Record<string, unknown> = { type: o.type, derived: o.derived ?? false };
        if (o.autoRotatePeriod !== undefined) body['auto_rotate_period'] = o.autoRotatePeriod;
        showWritten((await c.write(keyPath(o, name), body)).body, format, `created key ${name}`);
      }),
    );

  addCommon(cmd.command('list').description('list transit key names')).action((o: KeyOpts) =>
    withClient(o, async (c, format) => {
      let names: string[] = [];
      try {
        names = z.array(z.string()).parse(dataOf((await c.list(`${mountPath(o.mount)}/keys`)).body)['keys']);
      } catch (err) {
        // Vault answers an empty list with 404.
        if (!isArcaError(err, 'ERR_NOT_FOUND')) throw err;
      }
      if (format === 'table') for (const n of names) process.stdout.write(`${n}\n`);
      else printValue(names, format);
    }),
  );

  addCommon(cmd.command('show <name>').description('show a key: settings, versions, creation times and version ids')).action(
    (name: string, o: KeyOpts) =>
      withClient(o, async (c, format) => {
        try {
          showKey(dataOf((await c.read(keyPath(o, name))).body), format);
        } catch (err) {
          // Not found is a runtime answer (exit 2), like every other missing object; only bad flags exit 1.
          if (isArcaError(err, 'ERR_NOT_FOUND')) throw new ArcaError('ERR_NOT_FOUND', `no key named ${name} on ${mountPath(o.mount)}/`);
          throw err;
        }
      }),
  );

  addCommon(cmd.command('rotate <name>').description('add a new key version and make it the latest')).action((name: string, o: KeyOpts) =>
    withClient(o, async (c, format) => showWritten((await c.write(keyPath(o, name, '/rotate'))).body, format, `rotated key ${name}`)),
  );

  addCommon(cmd.command('config <name>').description('tune a key'))
    .option('--min-decryption-version <n>', 'refuse ciphertexts older than this version', intOpt)
    .option('--min-encryption-version <n>', 'oldest version encrypt may be asked to use (0 = latest)', intOpt)
    .option('--deletion-allowed <bool>', 'allow `arca key delete` (true|false)', boolOpt)
    .option('--auto-rotate-period <duration>', 'rotate on this schedule (0 disables; at least 1h)')
    .action(
      (
        name: string,
        o: KeyOpts & { minDecryptionVersion?: number; minEncryptionVersion?: number; deletionAllowed?: boolean; autoRotatePeriod?: string },
      ) => {
        const body: Record<string, unknown> = {};
        if (o.minDecryptionVersion !== undefined) body['min_decryption_version'] = o.minDecryptionVersion;
        if (o.minEncryptionVersion !== undefined) body['min_encryption_version'] = o.minEncryptionVersion;
        if (o.deletionAllowed !== undefined) body['deletion_allowed'] = o.deletionAllowed;
        if (o.autoRotatePeriod !== undefined) body['auto_rotate_period'] = o.autoRotatePeriod;
        if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option (see --help)');
        return withClient(o, async (c, format) => showWritten((await c.write(keyPath(o, name, '/config'), body)).body, format, `updated key ${name}`));
      },
    );

  addCommon(cmd.command('delete <name>').description('delete a key and all its versions (needs deletion_allowed)')).action(
    (name: string, o: KeyOpts) =>
      withClient(o, async (c) => {
        await c.delete(keyPath(o, name));
        process.stdout.write(`deleted key ${name}\n`);
      }),
  );
}
