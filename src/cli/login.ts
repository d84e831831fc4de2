/**
 * `arca login kubernetes --role R [--jwt-file F]`: logs in with a service-account token
 * (`auth/<path>/login`) and prints the new token as `vault login` does. `--token-file` stores it
 * (mode 0600) instead of printing it, `--field token` prints only the token for `export ARCA_TOKEN=$(…)`.
 * The JWT is read from a file, never from argv, so it stays out of the process list.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printValue } from './output.ts';
import { registerOidcLogin } from './oidc.ts';
import { registerUserpassLogin } from './userpass.ts';

/** Where the kubelet mounts a pod's projected service-account token. */
export const DEFAULT_JWT_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

interface LoginFlags extends ClientFlags {
  role?: string;
  jwtFile: string;
  path: string;
  tokenFile?: string;
  field?: string;
}

function readJwt(file: string): string {
  let t: string;
  try {
    t = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`cannot read the service-account token file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (t === '') throw new UsageError(`the service-account token file ${file} is empty`);
  if (t.length > 16384) throw new UsageError(`${file} is longer than 16384 bytes: is it a service-account token?`);
  return t;
}

/** Vault CLI's login table (token fields, then token_meta_*). */
export function loginOut(auth: Record<string, unknown>, withToken: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (withToken) out['token'] = auth['client_token'];
  out['token_accessor'] = auth['accessor'];
  out['token_duration'] = auth['lease_duration'];
  out['token_renewable'] = auth['renewable'];
  out['token_policies'] = auth['token_policies'] ?? auth['policies'];
  out['identity_policies'] = auth['identity_policies'] ?? [];
  out['policies'] = auth['policies'];
  for (const [k, v] of Object.entries((auth['metadata'] ?? {}) as Record<string, unknown>)) out[`token_meta_${k}`] = v;
  return out;
}

export function register(cmd: Command): void {
  cmd.description('log in with an auth method and print or store the new token');
  registerUserpassLogin(cmd, loginOut);
  registerOidcLogin(cmd, loginOut);
  withClientFlags(cmd.command('kubernetes').description('log in with a Kubernetes service-account token'))
    .requiredOption('--role <name>', 'role on the Kubernetes auth mount')
    .option('--jwt-file <file>', 'service-account token file', DEFAULT_JWT_FILE)
    .option('--path <path>', 'mount path under auth/', 'kubernetes')
    .option('--token-file <file>', 'store the new token in FILE (mode 0600) instead of printing it')
    .option('--field <name>', 'print only this field (e.g. token)')
    .action(async (o: LoginFlags) => {
      const path = o.path.replace(/^\/+|\/+$/g, '');
      if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path)) throw new UsageError('--path may contain only letters, digits, . _ - and / separators');
      const jwt = readJwt(o.jwtFile);
      const { client, format } = clientFrom(o);
      // A login needs no token; never send one that happens to be in the environment.
      client.token = undefined;
      try {
        const r = await client.write(`auth/${path}/login`, { role: o.role, jwt });
        const auth = (r.body['auth'] ?? {}) as Record<string, unknown>;
        if (typeof auth['client_token'] !== 'string' || auth['client_token'] === '') throw new UsageError('the server answered without a token');
        if (o.tokenFile) {
          const tmp = `${o.tokenFile}.tmp-${process.pid}`;
          writeFileSync(tmp, `${auth['client_token']}\n`, { mode: 0o600 });
          renameSync(tmp, o.tokenFile);
        }
        const out = loginOut(auth, !o.tokenFile);
        if (o.field) {
          if (!(o.field in out)) throw new UsageError(`unknown field "${o.field}": use one of ${Object.keys(out).join(', ')}`);
          const v = out[o.field];
          process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
          return;
        }
        if (format === 'table') process.stdout.write(o.tokenFile ? `Success! The token is stored in ${o.tokenFile}.\n\n` : 'Success! You are now authenticated. Export the token as ARCA_TOKEN to use it.\n\n');
        printValue(out, format);
      } finally {
        client.close();
      }
    });
}
