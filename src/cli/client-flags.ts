import type { Command } from 'commander';
import { ArcaClient } from '../client/index.ts';
import { parseFormat, type OutputFormat } from './output.ts';

/** Common client flags: --addr, --token, --cacert (defaults from ARCA_ADDR, ARCA_TOKEN, ARCA_CACERT), -o. */
export function withClientFlags(cmd: Command): Command {
  return cmd
    .option('--addr <url>', 'server address (default $ARCA_ADDR or http://127.0.0.1:8200)')
    .option('--token <token>', 'token (default $ARCA_TOKEN)')
    .option('--cacert <file>', 'CA certificate to verify the server (default $ARCA_CACERT)')
    .option('-o, --output <format>', 'json|yaml|table');
}

export interface ClientFlags {
  addr?: string;
  token?: string;
  cacert?: string;
  output?: string;
}

export function clientFrom(f: ClientFlags): { client: ArcaClient; format: OutputFormat } {
  const client = new ArcaClient({ ...(f.addr ? { addr: f.addr } : {}), ...(f.token ? { token: f.token } : {}), ...(f.cacert ? { caCert: f.cacert } : {}) });
  return { client, format: parseFormat(f.output) };
}
