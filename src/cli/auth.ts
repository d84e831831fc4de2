/**
 * `arca auth …`: enable, disable and list auth methods (`sys/auth`), and configure the Kubernetes
 * method (`auth/<path>/config`, `auth/<path>/role/<name>`) over the HTTP API through the shared
 * client (--addr/--token/--cacert or ARCA_ADDR, ARCA_TOKEN, ARCA_CACERT).
 *
 * Fields are given as `key=value` like `vault write`: `key=@file` reads the value from a file (PEM
 * certificates and keys), and a key given twice becomes a list. The server validates every field.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { toClientError } from '../client/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printTable, printValue } from './output.ts';

const MOUNT = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const ROLE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** PEM bundles and JWTs are small; a larger file is almost certainly the wrong one. */
const MAX_FILE_BYTES = 1024 * 1024;

interface PathFlags extends ClientFlags {
  path?: string;
  description?: string;
}

function mountPath(p: string | undefined, dflt: string): string {
  const s = (p ?? dflt).replace(/^\/+|\/+$/g, '');
  if (!MOUNT.test(s) || s.split('/').some((x) => x === '.' || x === '..')) throw new UsageError(`--path "${s}" may contain only letters, digits, . _ - and / separators`);
  return s;
}

function roleName(n: string): string {
  if (!ROLE.test(n)) throw new UsageError(`role name "${n}" may contain only letters, digits and _ . - (at most 128)`);
  return n;
}

function readValueFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new UsageError(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
  return text;
}

/** `k=v` pairs → request body; `k=@file` reads the file; repeated keys become lists. */
export function parseFields(pairs: string[], readFile: (f: string) => string = readValueFile): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`"${p.split('=')[0]}" is not key=value: write fields as key=value or key=@file`);
    const k = p.slice(0, i);
    if (!/^[a-z_][a-z0-9_]*$/.test(k)) throw new UsageError(`field name "${k}" must be lowercase letters, digits and _`);
    let v = p.slice(i + 1);
    if (v.startsWith('@')) v = readFile(v.slice(1));
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

async function withClient<T>(o: ClientFlags, fn: (c: ReturnType<typeof clientFrom>) => Promise<T>): Promise<T> {
  const c = clientFrom(o);
  try {
    return await fn(c);
  } finally {
    c.client.close();
  }
}

function printWarnings(body: Record<string, unknown>): void {
  const w = body['warnings'];
  if (Array.isArray(w)) for (const m of w) process.stderr.write(`WARNING: ${String(m)}\n`);
}

interface MountSettingFlags {
  tokenType?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
}

/** Vault CLI's flags for an auth mount's settings; the server checks the values (a bad one is a 400, exit 2). */
function withMountSettings(c: Command): Command {
  return c
    .option('--token-type <type>', 'default-service (default), default-batch, service or batch: the type of the tokens its logins get')
    .option('--default-lease-ttl <duration>', 'TTL of a login whose role sets none, e.g. 1h (0 or "system": 768h)')
    .option('--max-lease-ttl <duration>', 'cap on every token of the mount, e.g. 24h (0 or "system": none but the system max)');
}

function mountSettings(o: MountSettingFlags): Record<string, string> {
  return {
    ...(o.tokenType !== undefined ? { token_type: o.tokenType } : {}),
    ...(o.defaultLeaseTtl !== undefined ? { default_lease_ttl: o.defaultLeaseTtl } : {}),
    ...(o.maxLeaseTtl !== undefined ? { max_lease_ttl: o.maxLeaseTtl } : {}),
  };
}

function registerMethods(cmd: Command): void {
  withClientFlags(cmd.command('list').description('list enabled auth methods')).action((o: ClientFlags) =>
    withClient(o, async ({ client, format }) => {
      const data = ((await client.read('sys/auth')).body['data'] ?? {}) as Record<string, { type?: string; accessor?: string; description?: string }>;
      if (format !== 'table') return printValue(data, format);
      printTable(['Path', 'Type', 'Accessor', 'Description'], Object.entries(data).map(([p, m]) => [p, m.type ?? '', m.accessor ?? '', m.description ?? '']));
    }),
  );
  withMountSettings(withClientFlags(cmd.command('enable <type>').description('enable an auth method (kubernetes, userpass, cert, oidc) at auth/<path>, by default auth/<type>')))
    .option('--path <path>', 'mount path under auth/ (default: the type)')
    .option('--description <text>', 'human-readable description')
    .action((type: string, o: PathFlags & MountSettingFlags) =>
      withClient(o, async ({ client }) => {
        const p = mountPath(o.path, type);
        const config = mountSettings(o);
        await client.write(`sys/auth/${p}`, { type, ...(o.description ? { description: o.description } : {}), ...(Object.keys(config).length ? { config } : {}) });
        process.stdout.write(`Success! Enabled ${type} auth method at: ${p}/\n`);
      }),
    );
  withMountSettings(withClientFlags(cmd.command('tune <path>').description("tune the auth method at auth/<path>: the token type and lease TTLs of the tokens its logins get (docs/governance.md)")))
    .option('--description <text>', 'human-readable description')
    .action((path: string, o: ClientFlags & MountSettingFlags & { description?: string }) =>
      withClient(o, async ({ client }) => {
        const p = mountPath(path, path);
        const body: Record<string, unknown> = { ...mountSettings(o), ...(o.description !== undefined ? { description: o.description } : {}) };
        if (Object.keys(body).length === 0) throw new UsageError('nothing to tune: give --token-type, --default-lease-ttl, --max-lease-ttl or --description');
        await client.write(`sys/auth/${p}/tune`, body);
        process.stdout.write(`Success! Tuned the auth method at: ${p}/\n`);
      }),
    );
  withClientFlags(cmd.command('disable <path>').description('disable the auth method at auth/<path> (its roles and config are no longer reachable)')).action(
    (path: string, o: ClientFlags) =>
      withClient(o, async ({ client }) => {
        const p = mountPath(path, path);
        await client.delete(`sys/auth/${p}`);
        process.stdout.write(`Success! Disabled the auth method (if it existed) at: ${p}/\n`);
      }),
  );
}

function registerKubernetes(k8s: Command): void {
  const withPath = (c: Command) => withClientFlags(c).option('--path <path>', 'mount path under auth/', 'kubernetes');
  const config = k8s.command('config').description('write or read auth/<path>/config');
  withPath(config.command('write <fields...>').description('write config fields as key=value (kubernetes_host, kubernetes_ca_cert=@ca.crt, token_reviewer_jwt_file, pem_keys=@keys.pem, issuer, verification, jwks_url, oidc_discovery_url, ...)')).action(
    (fields: string[], o: PathFlags) =>
      withClient(o, async ({ client }) => {
        const p = mountPath(o.path, 'kubernetes');
        printWarnings((await client.write(`auth/${p}/config`, parseFields(fields))).body);
        process.stdout.write(`Success! Data written to: auth/${p}/config\n`);
      }),
  );
  withPath(config.command('read').description('read the config (the reviewer JWT is never shown)')).action((o: PathFlags) =>
    withClient(o, async ({ client, format }) => printValue((await client.read(`auth/${mountPath(o.path, 'kubernetes')}/config`)).body['data'], format)),
  );

  const role = k8s.command('role').description('write, read, list and delete auth/<path>/role/<name>');
  withPath(role.command('write <name> <fields...>').description('create or update a role: bound_service_account_names=api bound_service_account_namespaces=payments audience=arca token_policies=app-read token_ttl=1h ...')).action(
    (name: string, fields: string[], o: PathFlags) =>
      withClient(o, async ({ client }) => {
        const p = mountPath(o.path, 'kubernetes');
        printWarnings((await client.write(`auth/${p}/role/${roleName(name)}`, parseFields(fields))).body);
        process.stdout.write(`Success! Data written to: auth/${p}/role/${name}\n`);
      }),
  );
  withPath(role.command('read <name>').description('show a role')).action((name: string, o: PathFlags) =>
    withClient(o, async ({ client, format }) => printValue((await client.read(`auth/${mountPath(o.path, 'kubernetes')}/role/${roleName(name)}`)).body['data'], format)),
  );
  withPath(role.command('list').description('list role names')).action((o: PathFlags) =>
    withClient(o, async ({ client, format }) => {
      const r = await client.request('GET', `auth/${mountPath(o.path, 'kubernetes')}/role/?list=true`);
      if (r.status === 404) return format === 'table' ? printTable(['Roles'], []) : printValue([], format);
      if (r.status >= 400) throw toClientError(r);
      const keys = ((r.body['data'] as { keys?: unknown } | null)?.keys ?? []) as string[];
      if (format === 'table') printTable(['Roles'], keys.map((k) => [k]));
      else printValue(keys, format);
    }),
  );
  withPath(role.command('delete <name>').description('delete a role')).action((name: string, o: PathFlags) =>
    withClient(o, async ({ client }) => {
      const p = mountPath(o.path, 'kubernetes');
      await client.delete(`auth/${p}/role/${roleName(name)}`);
      process.stdout.write(`Success! Data deleted (if it existed) at: auth/${p}/role/${name}\n`);
    }),
  );
}

export function register(cmd: Command): void {
  cmd.description('enable, disable and list auth methods; configure the Kubernetes auth method');
  registerMethods(cmd);
  registerKubernetes(cmd.command('kubernetes').description('configure the Kubernetes auth method (config, roles)'));
}
