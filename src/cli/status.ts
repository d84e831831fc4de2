import type { Command } from 'commander';
import { reportError } from './exit.ts';
import { clientFrom, type ClientFlags, withClientFlags } from './client-flags.ts';
import { statusRows } from './operator.ts';
import { printValue } from './output.ts';

/** `arca status`: seal status plus, when unsealed, who is active. Exit 2 when sealed (as vault status). */
export function register(cmd: Command): void {
  withClientFlags(cmd).action(async (f: ClientFlags) => {
    try {
      const { client, format } = clientFrom(f);
      const st = (await client.read('sys/seal-status')).body;
      const out: Record<string, unknown> = format === 'table' ? statusRows(st) : { ...st };
      if (st['sealed'] === false) {
        const l = await client.request('GET', 'sys/leader');
        if (l.status === 200) {
          const b = l.body;
          if (format === 'table') Object.assign(out, { 'HA Enabled': b['ha_enabled'], 'HA Mode': b['is_self'] ? 'active' : b['ha_enabled'] ? 'standby' : 'n/a', 'Active Node Address': b['leader_address'] || 'n/a' });
          else out['leader'] = b;
        }
      }
      printValue(out, format);
      if (st['sealed'] === true) process.exitCode = 2;
    } catch (err) {
      reportError(err);
    }
  });
}
