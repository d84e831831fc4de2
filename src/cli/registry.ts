import type { Command } from 'commander';

/**
 * Every top-level command and the module that defines it. Modules are imported only when their
 * command runs, so `arca kms-plugin` never loads fastify and `arca etcd` never loads the server.
 * Each module exports `register(cmd: Command): void` that adds options, subcommands and the action.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ register(cmd: Command): void }>;
}

export const COMMANDS: CommandEntry[] = [
  // one line per command, e.g.
  // { name: 'server', summary: 'run the Arca server', load: () => import('./server.ts') },
];
