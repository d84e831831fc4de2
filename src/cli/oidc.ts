/**
 * `arca login oidc [--role R] [--port 8250]`: single sign-on through the server's OIDC auth method.
 * Listens on 127.0.0.1:<port> for the provider's redirect (`http://localhost:<port>/oidc/callback`, which
 * the role must list in allowed_redirect_uris), prints the provider URL to open, and completes the
 * login with the code and state it receives (PKCE and nonce stay on the server).
 */
import { createServer } from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printValue } from './output.ts';

interface Flags extends ClientFlags {
  role?: string;
  path: string;
  port: string;
  tokenFile?: string;
}

/** How long the listener waits for the browser to come back. */
const WAIT_MS = 5 * 60_000;

function waitForCallback(port: number): { ready: Promise<void>; params: Promise<URLSearchParams>; close(): void } {
  let resolve!: (p: URLSearchParams) => void;
  let reject!: (e: Error) => void;
  const params = new Promise<URLSearchParams>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const srv = createServer((req, res) => {
    const u = new URL(req.url ?? '/', `http://localhost:${port}`);
    if (u.pathname !== '/oidc/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><p>Arca: login received, you can close this window.</p>');
    resolve(u.searchParams);
  });
  const timer = setTimeout(() => reject(new UsageError('no answer from the browser within 5 minutes')), WAIT_MS);
  timer.unref();
  const ready = new Promise<void>((res, rej) => {
    srv.once('error', (e) => rej(new UsageError(`cannot listen on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`)));
    srv.listen(port, '127.0.0.1', () => res());
  });
  const close = (): void => {
    clearTimeout(timer);
    srv.close();
  };
  return { ready, params, close };
}

export function registerOidcLogin(login: Command, loginOut: (auth: Record<string, unknown>, withToken: boolean) => Record<string, unknown>): void {
  withClientFlags(login.command('oidc').description('single sign-on with the OIDC auth method (opens a loopback listener for the redirect)'))
    .option('--role <name>', 'role on the OIDC mount (default: the mount\'s default_role)')
    .option('--path <path>', 'mount path under auth/', 'oidc')
    .option('--port <port>', 'loopback port for the redirect', '8250')
    .option('--token-file <file>', 'store the new token in FILE (mode 0600) instead of printing it')
    .action(async (o: Flags) => {
      const path = o.path.replace(/^\/+|\/+$/g, '');
      if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path)) throw new UsageError('--path may contain only letters, digits, . _ - and / separators');
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port must be an integer from 1 to 65535');
      const redirect = `http://localhost:${port}/oidc/callback`;
      const { client, format } = clientFrom(o);
      client.token = undefined;
      const cb = waitForCallback(port);
      try {
        await cb.ready;
        const r = await client.write(`auth/${path}/oidc/auth_url`, { redirect_uri: redirect, ...(o.role ? { role: o.role } : {}) });
        const url = (r.body['data'] as { auth_url?: string } | undefined)?.auth_url;
        if (!url) throw new UsageError('the server answered without an auth_url');
        process.stderr.write(`Complete the login in your browser:\n\n    ${url}\n\nWaiting for the redirect to ${redirect} ...\n`);
        const params = await cb.params;
        const v = await client.write(`auth/${path}/oidc/callback`, Object.fromEntries(params));
        const auth = (v.body['auth'] ?? {}) as Record<string, unknown>;
        if (typeof auth['client_token'] !== 'string' || auth['client_token'] === '') throw new UsageError('the server answered without a token');
        if (o.tokenFile) {
          const tmp = `${o.tokenFile}.tmp-${process.pid}`;
          writeFileSync(tmp, `${auth['client_token']}\n`, { mode: 0o600 });
          renameSync(tmp, o.tokenFile);
        }
        if (format === 'table') process.stdout.write(o.tokenFile ? `Success! The token is stored in ${o.tokenFile}.\n\n` : 'Success! You are now authenticated. Export the token as ARCA_TOKEN to use it.\n\n');
        printValue({ ...loginOut(auth, !o.tokenFile), entity_id: auth['entity_id'] }, format);
      } finally {
        cb.close();
        client.close();
      }
    });
}
