/**
 * `arca token …`: create, look up, revoke and tidy tokens over the HTTP API (`auth/token/*`) through the
 * shared client (--addr/--token/--cacert or ARCA_ADDR, ARCA_TOKEN, ARCA_CACERT).
 *
 * Token values are secrets: the only token this command ever prints is the one `token create` has
 * just made. Lookups blank the `id` field whatever the server sends. A token to look up or revoke
 * may be given as `-` to read it from stdin, which keeps it out of the process list and shell history.
 */
import type { Command } from 'commander';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { parseDuration } from '../units/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { type OutputFormat, printValue } from './output.ts';

function durationOpt(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    parseDuration(v, { field: `--${name}` });
  } catch (err) {
    if (isArcaError(err)) throw new UsageError(err.message);
    throw err;
  }
  return v;
}

function boolOpt(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name} must be true or false`);
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** TOKEN argument, or `-` for one line from stdin. */
async function tokenArg(t: string): Promise<string> {
  const token = t === '-' ? (await readStdin()).trim() : t;
  if (token === '') throw new UsageError('the token is empty');
  return token;
}

/** The auth block of `token create`, shaped as Vault's CLI shows it. */
function createdOut(auth: Record<string, unknown>): Record<string, unknown> {
  return {
    token: auth['client_token'],
    token_accessor: auth['accessor'],
    token_duration: auth['lease_duration'],
    token_renewable: auth['renewable'],
    token_type: auth['token_type'],
    token_policies: auth['token_policies'] ?? auth['policies'],
    identity_policies: auth['identity_policies'] ?? [],
    policies: auth['policies'],
  };
}

/** Lookup data with `id` forced blank: a lookup never prints a token. */
function lookupOut(data: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(data ?? {}) };
  if ('id' in out) out['id'] = '';
  return out;
}

function show(value: unknown, format: OutputFormat): void {
  printValue(value, format);
}

interface CreateFlags extends ClientFlags {
  policy?: string[];
  ttl?: string;
  explicitMaxTtl?: string;
  numUses?: string;
  orphan?: boolean;
  displayName?: string;
  defaultPolicy?: boolean;
  renewable?: string;
  type?: string;
  role?: string;
  field?: string;
}

export function register(cmd: Command): void {
  cmd.description('create, look up and revoke tokens');

  withClientFlags(cmd.command('create').description('create a child (or --orphan) token of the calling token and print it'))
    .option('--policy <name>', 'policy to attach (repeat or comma-separate; default: the caller\'s policies)', collect)
    .option('--ttl <duration>', 'initial TTL, e.g. 1h (default and maximum: 768h; a root token created by root has none)')
    .option('--explicit-max-ttl <duration>', 'hard limit the token can never be renewed past')
    .option('--num-uses <n>', 'number of uses before the token is revoked (0 = unlimited)')
    .option('--orphan', 'create a token without a parent (needs sudo on auth/token/create-orphan)')
    .option('--display-name <name>', 'display name (stored as token-<name>)')
    .option('--no-default-policy', 'do not attach the "default" policy')
    .option('--renewable <bool>', 'whether the token can be renewed (true|false, default true)')
    .option('--type <type>', 'service (default) or batch: a batch token is not stored, renewable or revocable (docs/kubernetes-auth.md)')
    .option('--role <name>', 'create through this token role (auth/token/create/<role>, docs/governance.md)')
    .option('--field <name>', 'print only this field, raw (e.g. token or token_accessor)')
    .action(async (o: CreateFlags) => {
      const { client, format } = clientFrom(o);
      const body: Record<string, unknown> = {};
      if (o.policy !== undefined) body['policies'] = o.policy;
      const ttl = durationOpt('ttl', o.ttl);
      if (ttl !== undefined) body['ttl'] = ttl;
      const max = durationOpt('explicit-max-ttl', o.explicitMaxTtl);
      if (max !== undefined) body['explicit_max_ttl'] = max;
      if (o.numUses !== undefined) {
        if (!/^\d+$/.test(o.numUses)) throw new UsageError('--num-uses must be a non-negative integer');
        body['num_uses'] = Number(o.numUses);
      }
      if (o.displayName !== undefined) body['display_name'] = o.displayName;
      if (o.defaultPolicy === false) body['no_default_policy'] = true;
      const renewable = boolOpt('renewable', o.renewable);
      if (renewable !== undefined) body['renewable'] = renewable;
      if (o.type !== undefined) {
        if (o.type !== 'service' && o.type !== 'batch') throw new UsageError('--type must be service or batch');
        body['type'] = o.type;
      }
      try {
        if (o.role !== undefined && o.orphan) throw new UsageError('--role and --orphan do not go together: a role says whether its tokens are orphans');
        const path = o.role !== undefined ? `auth/token/create/${encodeURIComponent(o.role)}` : o.orphan ? 'auth/token/create-orphan' : 'auth/token/create';
        const r = await client.call('POST', path, body);
        const auth = (r.body as { auth?: Record<string, unknown> | null }).auth;
        if (!auth || typeof auth['client_token'] !== 'string') throw new ArcaError('ERR_INTERNAL', 'the server answered without a token');
        const out = createdOut(auth);
        if (o.field !== undefined) {
          if (!(o.field in out)) throw new UsageError(`unknown field "${o.field}": use one of ${Object.keys(out).join(', ')}`);
          const v = out[o.field];
          process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
          return;
        }
        show(out, format);
      } finally {
        client.close();
      }
    });

  withClientFlags(cmd.command('lookup [token]').description('show a token\'s properties: TOKEN (or - for stdin), --accessor, or the calling token'))
    .option('--accessor <accessor>', 'look the token up by its accessor')
    .action(async (token: string | undefined, o: ClientFlags & { accessor?: string }) => {
      if (token !== undefined && o.accessor !== undefined) throw new UsageError('give either TOKEN or --accessor, not both');
      const { client, format } = clientFrom(o);
      try {
        const r =
          o.accessor !== undefined
            ? await client.call('POST', 'auth/token/lookup-accessor', { accessor: o.accessor })
            : token !== undefined
              ? await client.call('POST', 'auth/token/lookup', { token: await tokenArg(token) })
              : await client.call('GET', 'auth/token/lookup-self');
        show(lookupOut((r.body as { data?: Record<string, unknown> | null }).data), format);
      } finally {
        client.close();
      }
    });

  withClientFlags(cmd.command('revoke [token]').description('revoke TOKEN (or - for stdin), --accessor A, or --self, with its children'))
    .option('--accessor <accessor>', 'revoke the token with this accessor')
    .option('--self', 'revoke the calling token')
    .action(async (token: string | undefined, o: ClientFlags & { accessor?: string; self?: boolean }) => {
      const given = [token !== undefined, o.accessor !== undefined, o.self === true].filter(Boolean).length;
      if (given !== 1) throw new UsageError('give exactly one of TOKEN, --accessor or --self');
      const { client } = clientFrom(o);
      try {
        if (o.self) await client.call('POST', 'auth/token/revoke-self', {});
        else if (o.accessor !== undefined) await client.call('POST', 'auth/token/revoke-accessor', { accessor: o.accessor });
        else await client.call('POST', 'auth/token/revoke', { token: await tokenArg(token!) });
        process.stdout.write('Success! Revoked token (if it existed)\n');
      } finally {
        client.close();
      }
    });

  withClientFlags(cmd.command('tidy').description('start the expiry sweep now: revoke expired tokens, delete expired wrapping tokens (auth/token/tidy)')).action(async (o: ClientFlags) => {
    const { client } = clientFrom(o);
    try {
      await client.call('POST', 'auth/token/tidy', {});
      process.stdout.write('Success! Tidy started: expired tokens and wrapping tokens are removed in the background (see the server log and arca_expiry_sweep_* in sys/metrics)\n');
    } finally {
      client.close();
    }
  });
}
