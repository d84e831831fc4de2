/**
 * `arca login userpass --username U [--password-file F|-] [--totp-code C]`: logs in with a password
 * (`auth/<path>/login/<user>`) and, when the server asks for MFA, completes `sys/mfa/validate` with
 * the TOTP code (or a recovery code). The password comes from a file or stdin, never from argv.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printValue } from './output.ts';

interface Flags extends ClientFlags {
  username: string;
  passwordFile: string;
  path: string;
  totpCode?: string;
  tokenFile?: string;
}

async function readSecret(file: string): Promise<string> {
  let v: string;
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    v = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      v = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const pw = v.replace(/\r?\n$/, '');
  if (pw === '') throw new UsageError('the password is empty');
  return pw;
}

export function registerUserpassLogin(login: Command, loginOut: (auth: Record<string, unknown>, withToken: boolean) => Record<string, unknown>): void {
  withClientFlags(login.command('userpass').description('log in with a user name and password (and a TOTP code when MFA is enforced)'))
    .requiredOption('--username <name>', 'user name')
    .option('--password-file <file>', 'file holding the password, or - for stdin', '-')
    .option('--path <path>', 'mount path under auth/', 'userpass')
    .option('--totp-code <code>', 'TOTP code (or recovery code) for the MFA step, when the mount enforces it')
    .option('--token-file <file>', 'store the new token in FILE (mode 0600) instead of printing it')
    .action(async (o: Flags) => {
      const path = o.path.replace(/^\/+|\/+$/g, '');
      if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path)) throw new UsageError('--path may contain only letters, digits, . _ - and / separators');
      if (!/^[A-Za-z0-9._@-]{1,128}$/.test(o.username)) throw new UsageError('--username may contain only letters, digits, . _ @ -');
      const password = await readSecret(o.passwordFile);
      const { client, format } = clientFrom(o);
      client.token = undefined;
      try {
        const r = await client.write(`auth/${path}/login/${o.username}`, { password });
        let auth = (r.body['auth'] ?? {}) as Record<string, unknown>;
        const mfa = auth['mfa_requirement'] as { mfa_request_id: string; mfa_constraints: Record<string, { any: { id: string }[] }> } | null | undefined;
        if (mfa) {
          if (!o.totpCode) throw new UsageError('this login requires MFA: pass --totp-code with the current code from your authenticator (or a recovery code)');
          const payload: Record<string, string[]> = {};
          for (const c of Object.values(mfa.mfa_constraints)) for (const m of c.any) payload[m.id] = [o.totpCode];
          const v = await client.write('sys/mfa/validate', { mfa_request_id: mfa.mfa_request_id, mfa_payload: payload });
          auth = (v.body['auth'] ?? {}) as Record<string, unknown>;
        }
        if (typeof auth['client_token'] !== 'string' || auth['client_token'] === '') throw new UsageError('the server answered without a token');
        if (o.tokenFile) {
          const tmp = `${o.tokenFile}.tmp-${process.pid}`;
          writeFileSync(tmp, `${auth['client_token']}\n`, { mode: 0o600 });
          renameSync(tmp, o.tokenFile);
        }
        const out = { ...loginOut(auth, !o.tokenFile), entity_id: auth['entity_id'] };
        if (format === 'table') process.stdout.write(o.tokenFile ? `Success! The token is stored in ${o.tokenFile}.\n\n` : 'Success! You are now authenticated. Export the token as ARCA_TOKEN to use it.\n\n');
        printValue(out, format);
      } finally {
        client.close();
      }
    });
}
