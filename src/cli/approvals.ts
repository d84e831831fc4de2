/**
 * `arca approvals list|show|approve`: quorum approval of held requests (control groups).
 * `list` shows pending requests (`sys/control-group/requests`), `show ACCESSOR` one request with its
 * approvals, `approve ACCESSOR` adds the caller's entity's approval.
 */
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { printTable, printValue } from './output.ts';

export function register(cmd: Command): void {
  cmd.description('list, inspect and approve requests held for quorum approval');
  withClientFlags(cmd.command('list').description('pending requests')).action(async (o: ClientFlags) => {
    const { client, format } = clientFrom(o);
    try {
      const r = await client.list('sys/control-group/requests');
      const d = (r.body['data'] ?? {}) as { keys?: string[]; key_info?: Record<string, { request_path: string; request_entity: { name: string }; authorizations: unknown[]; approved: boolean; expire_time: string }> };
      if (format !== 'table') return printValue(d, format);
      printTable(['ACCESSOR', 'PATH', 'REQUESTER', 'APPROVALS', 'APPROVED', 'EXPIRES'], (d.keys ?? []).map((k) => {
        const i = d.key_info?.[k];
        return [k, i?.request_path ?? '', i?.request_entity.name ?? '', String(i?.authorizations.length ?? 0), String(i?.approved ?? false), i?.expire_time ?? ''];
      }));
    } finally {
      client.close();
    }
  });
  withClientFlags(cmd.command('show <accessor>').description('one request, its factors and approvals')).action(async (accessor: string, o: ClientFlags) => {
    const { client, format } = clientFrom(o);
    try {
      const r = await client.write('sys/control-group/request', { accessor });
      printValue(r.body['data'], format);
    } finally {
      client.close();
    }
  });
  withClientFlags(cmd.command('approve <accessor>').description("add your entity's approval")).action(async (accessor: string, o: ClientFlags) => {
    const { client, format } = clientFrom(o);
    try {
      const r = await client.write('sys/control-group/authorize', { accessor });
      printValue(r.body['data'], format);
    } finally {
      client.close();
    }
  });
}
