/**
 * `arca unwrap [TOKEN|-]`: spends a response-wrapping token (`sys/wrapping/unwrap`) and prints what
 * it wrapped. For a control-group request, run it with the requester's own token (--token/ARCA_TOKEN):
 * the approved request then runs once and its response is printed. `-` reads the token from stdin.
 */
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printValue } from './output.ts';

export function register(cmd: Command): void {
  withClientFlags(cmd.description('unwrap a response-wrapping token (once)').argument('<wrapping-token>', 'the wrapping token, or - for stdin'))
    .action(async (arg: string, o: ClientFlags) => {
      let token = arg;
      if (arg === '-') {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        token = Buffer.concat(chunks).toString('utf8').trim();
      }
      if (token === '') throw new UsageError('the wrapping token is empty');
      const { client, format } = clientFrom(o);
      try {
        const r = await client.write('sys/wrapping/unwrap', { token });
        printValue(r.body['auth'] ? { data: r.body['data'], auth: r.body['auth'] } : (r.body['data'] ?? {}), format);
      } finally {
        client.close();
      }
    });
}
